/**
 * Full finetuning (run.method 'full') of linears cut in row shards (a weight above the binding
 * limit, src/engine/kernels/weights.ts rowShardRanges), on a Qwen2-like model with q/k/v biases:
 * the plan equals the ledger, and the gradients of two accumulated micro-batches (each shard's dW
 * read from its columns of dy, the biases' column sums) and one clipped AdamW step equal the CPU
 * reference (src/reference/full-backward.ts, itself checked against PyTorch in ./full-finetune.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { countBaseParams } from '../../src/config/param-count';
import { parseRunConfig } from '../../src/config/run-config';
import { epochBatches } from '../../src/data/batching';
import { createEngine } from '../../src/engine/context';
import { decodeGradStats } from '../../src/engine/kernels/grad-norm';
import { readBuffers } from '../../src/engine/readback';
import { readFullTensors } from '../../src/model/graph/full-state';
import { buildTrainGraph } from '../../src/model/graph/train-graph';
import { planMemory } from '../../src/model/plan/memory-plan';
import { chainDataset, loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { adamwStep, clipGradNorm, fullLossAndGrads } from '../../src/reference';
import { submitMicroBatch, submitOptimizerStep } from '../../src/train/step';
import { mismatches, testGpu } from '../gpu/gpu';

const gpu = await testGpu();

describe.skipIf(!gpu)('full finetuning of linears in row shards, with q/k/v biases', () => {
  // C = F = 128 under a 32 KiB binding: q, o, gate, up, down (128, 128) f32 in two row shards of 64,
  // k and v (64, 128) whole, the embedding in vocabulary shards, the untied head in chunks.
  const CAP = 32 * 1024;
  const model = tinyModelConfig({ modelType: 'qwen2', vocabSize: 128, hiddenSize: 128, intermediateSize: 128, numHeads: 4, numKvHeads: 2, headDim: 32, attentionBias: true });
  const weights = tinyWeights(model, 4);
  const run = parseRunConfig({
    method: 'full', basePrecision: 'f32', optimizer: 'adamw', learningRate: 1e-2, weightDecay: 0.01, schedule: 'constant',
    gradClip: 0.5, gradAccumulation: 2, microBatch: 2, maxSeqLen: 12, vocabChunk: 64,
  });
  const batches = epochBatches(chainDataset(model.vocabSize, 4, 13, 5), 2, 12, 0, 3, 0);

  it('the plan equals the ledger; two micro-batches\' gradients and one clipped AdamW step equal the CPU reference', async () => {
    const plan = await planMemory(model, run, { ...gpu!.limits, maxBufferSize: CAP, maxStorageBufferBindingSize: CAP }, gpu!.features);
    expect(plan.largest.bytes).toBeLessThanOrEqual(CAP);
    const engine = createEngine(gpu!);
    try {
      const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights), maxBindingBytes: CAP });
      expect(engine.pool.ledgerSnapshot().current).toEqual(plan.byCategory);
      expect(plan.byCategory.grads).toBe(plan.byCategory.weights);
      for (const l of g.base.layers) {
        for (const m of ['q_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const) expect(l.linears[m].shards.map((s) => s.r0), m).toEqual([0, 64]);
        expect(l.linears.k_proj.shards).toHaveLength(1);
      }
      expect(g.base.embed.length).toBeGreaterThan(1);
      expect(g.layout.params).toBe(countBaseParams(model)); // every base tensor, the biases among them
      submitMicroBatch(g, batches[0], 0, 0);
      submitMicroBatch(g, batches[1], 0, 1);
      const grads = await readFullTensors(engine, g.full!, g.full!.state.grads);
      const before = await readFullTensors(engine, g.full!, g.full!.state.params);
      submitOptimizerStep(g, 0, run.learningRate);
      const after = await readFullTensors(engine, g.full!, g.full!.state.params);
      const [statsBytes] = await readBuffers(engine.gpu.device, [{ buffer: g.gradStats }]);

      // The reference: the gradient buffers hold the sum over the micro-batches (the step scales by
      // 1 / gradAccumulation); their mean is clipped over all tensors, then AdamW.
      const refModel = { config: model, weights };
      const [r0, r1] = batches.slice(0, 2).map((b) => fullLossAndGrads(refModel, b.tokens, b.targets, 2, 12).grads);
      expect([...grads.keys()].sort()).toEqual([...r0.keys()].sort());
      expect(grads.has('model.layers.1.self_attn.v_proj.bias')).toBe(true);
      const sum = new Map([...r0].map(([k, a]) => [k, Float64Array.from(a, (x, i) => x + r1.get(k)![i])]));
      for (const [k, t] of grads) expect(mismatches(t.data, sum.get(k)!, 1e-6, 2e-3), `${k}.grad`).toBeNull();
      const want = new Map([...sum].map(([k, a]) => [k, a.map((x) => x / run.gradAccumulation)]));
      const norm = clipGradNorm(want.values(), run.gradClip);
      const stats = decodeGradStats(statsBytes);
      expect(stats.norm / norm).toBeCloseTo(1, 4);
      expect(stats.clipCoef).toBeLessThan(1);
      for (const [k, t] of after) {
        const p = Float64Array.from(before.get(k)!.data);
        adamwStep(p, want.get(k)!, new Float64Array(p.length), new Float64Array(p.length), 1, {
          lr: run.learningRate, beta1: run.betas[0], beta2: run.betas[1], eps: run.eps, weightDecay: run.weightDecay,
        });
        // AdamW's first step is about lr * sign(g); 0.5% of lr as the tolerance (a missed shard is off by about lr).
        expect(mismatches(t.data, p, 5e-3 * run.learningRate, 1e-5), `${k} after AdamW`).toBeNull();
      }
    } finally {
      engine.pool.destroyAll();
    }
  }, 60_000);
});
