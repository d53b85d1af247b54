import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/context';
import { epochBatches } from '../../src/data/batching';
import { buildTrainGraph, loraConfigOf } from '../../src/model/graph/train-graph';
import { initialLoraParams, readLoraTensors } from '../../src/model/graph/lora-state';
import { loraLayout } from '../../src/model/plan/lora-layout';
import { adamwStep, clipGradNorm, lossAndGrads, seededDropout, type LoraWeights } from '../../src/reference';
import { packWeight, unpackWeight } from '../../src/reference/quant/packed';
import { parseRunConfig } from '../../src/config/run-config';
import { submitMicroBatch, submitOptimizerStep, evaluate, readStepMetrics } from '../../src/train/step';
import { testGpu, mismatches } from '../gpu/gpu';
import { chainDataset, loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';

const gpu = await testGpu();
const model = tinyModelConfig();
const weights = tinyWeights(model, 2);
const data = chainDataset(model.vocabSize, 16, 13, 3);

/** The base weights as the GPU sees them: every linear through NF4 and back. */
function dequantizedNf4(): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, w] of weights) {
    const linear = /_proj\.weight$|^lm_head\.weight$/.test(name);
    out.set(name, linear ? unpackWeight(packWeight(w, 'nf4')) : w);
  }
  return out;
}

describe.skipIf(!gpu)('GPU training against the CPU reference', () => {
  it('NF4: the loss curve tracks the reference computed on the same dequantized weights', async () => {
    const run = parseRunConfig({
      basePrecision: 'nf4', maxSeqLen: 12, microBatch: 4, maxSteps: 12, learningRate: 5e-3, schedule: 'constant', gradClip: 1,
      targets: ['query', 'key', 'value', 'projection', 'mlp', 'head'], rank: 3, alpha: 6, logEvery: 12, vocabChunk: 64, seed: 11,
    });
    const engine = createEngine(gpu!);
    const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights) });
    const layout = loraLayout(model, loraConfigOf(run));
    const flat = initialLoraParams(layout, run.seed);
    const lora: LoraWeights = new Map(layout.slots.map((s) => [s.path, {
      A: flat.slice(s.offsetA, s.offsetA + s.r * s.inFeatures), B: flat.slice(s.offsetB, s.offsetB + s.outFeatures * s.r), r: s.r, scale: s.scale,
    }]));
    const moments = new Map([...lora].map(([p, m]) => [p, { mA: new Float32Array(m.A.length), vA: new Float32Array(m.A.length), mB: new Float32Array(m.B.length), vB: new Float32Array(m.B.length) }]));
    const refModel = { config: model, weights: dequantizedNf4() };
    const batches = epochBatches(data, run.microBatch, run.maxSeqLen, 0, run.seed, 0);

    const refLosses: number[] = [];
    for (let step = 0; step < 12; step++) {
      const batch = batches[step % batches.length];
      submitMicroBatch(g, batch, step, 0);
      submitOptimizerStep(g, step, run.learningRate);
      const { loss, grads } = lossAndGrads(refModel, lora, batch.tokens, batch.targets, run.microBatch, run.maxSeqLen);
      refLosses.push(loss);
      clipGradNorm([...grads.values()].flatMap((x) => [x.dA, x.dB]), run.gradClip);
      const hp = { lr: run.learningRate, beta1: run.betas[0], beta2: run.betas[1], eps: run.eps, weightDecay: run.weightDecay };
      for (const [path, m] of lora) {
        const gr = grads.get(path)!;
        const st = moments.get(path)!;
        adamwStep(m.A, gr.dA, st.mA, st.vA, step + 1, hp);
        adamwStep(m.B, gr.dB, st.mB, st.vB, step + 1, hp);
      }
    }
    const gpuLosses = (await readStepMetrics(g, 11, 12)).map((m) => m.loss);
    console.log(`nf4 gpu ${gpuLosses.map((x) => x.toFixed(4)).join(' ')}\nnf4 ref ${refLosses.map((x) => x.toFixed(4)).join(' ')}`);
    expect(mismatches(gpuLosses, refLosses, 1e-4, 1e-3)).toBeNull();
    expect(gpuLosses[11]).toBeLessThan(gpuLosses[0]);
    engine.pool.destroyAll();
  });

  it('dropout: matches the reference masks, changes the LoRA gradients, repeats with the seed, and is off at validation', async () => {
    const base = { maxSeqLen: 8, microBatch: 2, targets: ['query', 'mlp', 'head'] as const, rank: 2, alpha: 4, seed: 5, vocabChunk: 64 };
    const batch = epochBatches(data, 2, 8, 0, 5, 0)[0];
    const gradsOf = async (dropout: number) => {
      const engine = createEngine(gpu!);
      const g = await buildTrainGraph(engine, model, parseRunConfig({ ...base, targets: [...base.targets], dropout }), { load: loaderOf(weights) });
      submitMicroBatch(g, batch, 3, 0);
      const grads = await readLoraTensors(engine, g.lora.grads, g.layout);
      const evalLoss = await evaluate(g, [batch]);
      engine.pool.destroyAll();
      return { grads, evalLoss, layout: g.layout };
    };
    const p0 = await gradsOf(0);
    const a = await gradsOf(0.3);
    const b = await gradsOf(0.3);

    // The CPU reference with the masks of the shared RNG, stream (step 3, micro 0, layer, module).
    const flat = initialLoraParams(a.layout, base.seed);
    const lora: LoraWeights = new Map(a.layout.slots.map((s) => [s.path, {
      A: flat.slice(s.offsetA, s.offsetA + s.r * s.inFeatures), B: flat.slice(s.offsetB, s.offsetB + s.outFeatures * s.r), r: s.r, scale: s.scale,
    }]));
    const ref = lossAndGrads({ config: model, weights }, lora, batch.tokens, batch.targets, 2, 8, { dropout: seededDropout(base.seed, 3, 0.3, 0) });
    for (const [path, g] of a.grads) {
      const r = ref.grads.get(path)!;
      expect(mismatches(g.A, r.dA, 1e-5, 1e-3), `${path} dA`).toBeNull();
      expect(mismatches(g.B, r.dB, 1e-5, 1e-3), `${path} dB`).toBeNull();
      expect(b.grads.get(path)!.B).toEqual(g.B);
    }
    // B starts at zero, so dA is zero either way; dB = scale dy^T (dropout(x) A^T) sees the masks.
    const changed = [...a.grads].every(([path, g]) => g.B.some((x, i) => x !== p0.grads.get(path)!.B[i]));
    expect(changed).toBe(true);
    expect(a.evalLoss).toBeCloseTo(p0.evalLoss, 6);
  });
});
