/**
 * Every split path at once, under a largest binding of 64 KiB (sizing only; the device takes the
 * rest), on a small Llama (C = 128, F = 256, V = 320) with LoRA on every linear and the head:
 *   - the flat LoRA state (parameters, gradients, AdamW m and v) in 64 KiB chunks, lm_head's B
 *     (320, 64) cut between vocabulary chunks;
 *   - the f32 MLP weights (256, 128) and (128, 256) in row shards of 128 and 64 rows;
 *   - the embedding table in vocabulary shards, the untied head in vocabulary chunks.
 * No buffer of the plan is above the limit, the plan equals the ledger, the loss, every LoRA gradient
 * and one AdamW step with clipping equal the CPU reference, training matches an unsplit run and
 * resumes bitwise from a checkpoint, and generation on the split weights gives the reference logits.
 */
import { describe, expect, it } from 'vitest';
import { parseRunConfig, type RunConfigInput } from '../../src/config/run-config';
import { epochBatches } from '../../src/data/batching';
import { createEngine } from '../../src/engine/context';
import { decodeGradStats } from '../../src/engine/kernels/grad-norm';
import { readBuffers } from '../../src/engine/readback';
import { createDecoder } from '../../src/model/generate';
import { readFlats, readLoraTensors, writeFlat } from '../../src/model/graph/lora-state';
import { buildTrainGraph, loraConfigOf } from '../../src/model/graph/train-graph';
import { loraChunks } from '../../src/model/plan/lora-chunks';
import { loraLayout } from '../../src/model/plan/lora-layout';
import { planMemory } from '../../src/model/plan/memory-plan';
import { chainDataset, loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { adamwStep, clipGradNorm, lossAndGrads } from '../../src/reference';
import { restoreTrainState, snapshotTrainState, type TrainState } from '../../src/train/checkpoint';
import { submitMicroBatch, submitOptimizerStep } from '../../src/train/step';
import { train, type StepEvent } from '../../src/train/trainer';
import { loraWeightsOf, promptIds, randomLoraParams, referenceNextLogits } from '../generate/helpers';
import { mismatches, testGpu } from '../gpu/gpu';

const gpu = await testGpu();
const CAP = 64 * 1024;
const model = tinyModelConfig({ vocabSize: 320, hiddenSize: 128, intermediateSize: 256, numHeads: 4, numKvHeads: 2, headDim: 32 });
const weights = tinyWeights(model, 2);
const base: RunConfigInput = {
  maxSeqLen: 12, microBatch: 2, targets: ['query', 'key', 'value', 'projection', 'mlp', 'head'], rank: 16, alpha: 32,
  rankPattern: { lm_head: 64 }, seed: 3, basePrecision: 'f32', vocabChunk: 128, learningRate: 1e-2, gradClip: 0.05, schedule: 'constant',
};
const run = parseRunConfig(base);
const data = chainDataset(model.vocabSize, 12, 13, 4);
const batch = epochBatches(data, 2, 12, 0, 3, 0)[0];

describe('loraChunks', () => {
  const layout = loraLayout(model, { r: 16, alpha: 32, dropout: 0, useRslora: false, targetModules: ['q_proj', 'down_proj', 'lm_head'], rankPattern: { lm_head: 64 }, alphaPattern: {} });
  it('cuts the flat vector only where a tensor starts (or between whole vocabulary chunks of lm_head B), each chunk within the limit', () => {
    const chunks = loraChunks(layout, CAP, 128);
    expect(chunks[0].start).toBe(0);
    chunks.forEach((c, i) => {
      expect(4 * c.length).toBeLessThanOrEqual(CAP);
      if (i > 0) expect(c.start).toBe(chunks[i - 1].start + chunks[i - 1].length);
    });
    expect(chunks.at(-1)!.start + chunks.at(-1)!.length).toBe(layout.length);
    const head = layout.slots.find((s) => s.module === 'lm_head')!;
    const starts = new Set(layout.slots.flatMap((s) => [s.offsetA, s.offsetB]));
    for (const c of chunks) {
      const inHeadB = c.start > head.offsetB && c.start < head.offsetB + 320 * 64;
      expect(starts.has(c.start) || (inHeadB && (c.start - head.offsetB) % (128 * 64) === 0), `cut at ${c.start}`).toBe(true);
    }
    expect(chunks.some((c) => c.start > head.offsetB && c.start < head.offsetB + 320 * 64)).toBe(true);
    expect(loraChunks(layout, Infinity, 128)).toEqual([{ start: 0, length: layout.length }]);
  });

  it('refuses a tensor that cannot be cut, naming it and what to change', () => {
    expect(() => loraChunks(layout, 8 * 1024, 128)).toThrow(/^LoRA tensor model\.layers\.0\.mlp\.down_proj A \(16, 256\) needs 16\.0 KiB, above the 8\.0 KiB one GPU binding takes; use a smaller rank/);
  });
});

describe.skipIf(!gpu)('every piece under a 64 KiB binding limit', () => {
  it('the plan: no buffer above the limit, and it equals the ledger of the real build', async () => {
    const plan = await planMemory(model, run, { ...gpu!.limits, maxBufferSize: CAP, maxStorageBufferBindingSize: CAP }, gpu!.features);
    expect(plan.largest.bytes).toBeLessThanOrEqual(CAP);
    const engine = createEngine(gpu!);
    const g = await buildTrainGraph(engine, model, run, { maxBindingBytes: CAP });
    const ledger = engine.pool.ledgerSnapshot();
    expect(g.lora.chunks.length).toBeGreaterThan(4);
    const head = g.layout.slots.find((s) => s.module === 'lm_head')!;
    expect(g.lora.chunks.some((c) => c.start > head.offsetB && c.start < head.offsetB + 320 * 64), 'lm_head B cut').toBe(true);
    for (const l of g.base.layers) {
      expect(l.linears.gate_proj.shards.map((s) => [s.r0, s.weight.rows])).toEqual([[0, 128], [128, 128]]);
      expect(l.linears.down_proj.shards.map((s) => [s.r0, s.weight.rows])).toEqual([[0, 64], [64, 64]]);
      expect(l.linears.q_proj.shards).toHaveLength(1);
    }
    expect(g.base.embed.map((s) => s.rows)).toEqual([128, 128, 64]);
    engine.pool.destroyAll();
    expect(plan.byCategory).toEqual(ledger.current);
    expect(plan.total).toBe(ledger.total);
  });

  it('loss, every LoRA gradient and one AdamW step with clipping equal the CPU reference', async () => {
    const engine = createEngine(gpu!);
    const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights), maxBindingBytes: CAP });
    // B non-zero (the seed's init has B = 0, so dA would be 0): random A and B, written in pieces.
    const flat = randomLoraParams(g.layout, 5, 0.05);
    writeFlat(engine.gpu.device.queue, g.lora.params, flat);
    submitMicroBatch(g, batch, 0, 0);
    const grads = await readLoraTensors(engine, g.lora.grads, g.layout);
    const [lossBytes] = await readBuffers(engine.gpu.device, [{ buffer: g.stepLoss, size: 4 }]);
    submitOptimizerStep(g, 0, run.learningRate);
    const [after] = await readFlats(engine, [g.lora.params]);
    const [statsBytes] = await readBuffers(engine.gpu.device, [{ buffer: g.gradStats }]);
    engine.pool.destroyAll();

    const ref = lossAndGrads({ config: model, weights }, loraWeightsOf(g.layout, flat), batch.tokens, batch.targets, 2, 12);
    expect(mismatches([new Float32Array(lossBytes)[0]], [ref.loss], 1e-5, 1e-5)).toBeNull();
    for (const s of g.layout.slots) {
      const want = ref.grads.get(s.path)!;
      expect(mismatches(grads.get(s.path)!.A, want.dA, 1e-6, 2e-3), `${s.path} dA`).toBeNull();
      expect(mismatches(grads.get(s.path)!.B, want.dB, 1e-6, 2e-3), `${s.path} dB`).toBeNull();
    }
    // The reference step on the flat vector: clip to gradClip over all tensors, then AdamW.
    const gflat = new Float64Array(g.layout.length);
    for (const s of g.layout.slots) {
      gflat.set(ref.grads.get(s.path)!.dA, s.offsetA);
      gflat.set(ref.grads.get(s.path)!.dB, s.offsetB);
    }
    const norm = clipGradNorm([gflat], run.gradClip);
    expect(decodeGradStats(statsBytes).norm / norm).toBeCloseTo(1, 4);
    expect(decodeGradStats(statsBytes).clipCoef).toBeLessThan(1);
    const want = Float64Array.from(flat);
    adamwStep(want, gflat, new Float64Array(want.length), new Float64Array(want.length), 1, {
      lr: run.learningRate, beta1: run.betas[0], beta2: run.betas[1], eps: run.eps, weightDecay: run.weightDecay,
    });
    // AdamW's first step is about lr * sign(g): a gradient near 0 moves by less, and its f32 rounding shows
    // there; 0.5% of lr as the tolerance (a missed chunk or a wrong clip is off by about lr).
    expect(mismatches(after, want, 5e-3 * run.learningRate, 1e-5)).toBeNull();
  }, 60_000);

  const rows = (events: StepEvent[]) => events.map((e) => [e.step, e.loss, e.gradNorm]);

  it('training matches an unsplit run, and resumes bitwise from a checkpoint of the chunked state', async () => {
    const over = parseRunConfig({ ...base, maxSteps: 5, logEvery: 1, gradAccumulation: 2, dropout: 0.1 });
    const AT = 2;
    const trainOn = async (cap: number | undefined, state: TrainState | null, startStep?: number) => {
      const engine = createEngine(gpu!);
      const g = await buildTrainGraph(engine, model, over, { load: loaderOf(weights), ...(cap ? { maxBindingBytes: cap } : {}) });
      if (state) restoreTrainState(g, state);
      let kept: TrainState | null = null;
      const events = await train(g, { train: data, padId: 0, startStep, beforeStep: async (step) => { if (step === AT && !state) kept = await snapshotTrainState(g, step); } });
      engine.pool.destroyAll();
      return { events, kept: kept as TrainState | null };
    };
    const split = await trainOn(CAP, null);
    const whole = await trainOn(undefined, null);
    expect(split.events).toHaveLength(5);
    for (let i = 0; i < 5; i++) {
      expect(split.events[i].loss / whole.events[i].loss, `step ${i + 1}`).toBeCloseTo(1, 4);
      expect(split.events[i].gradNorm / whole.events[i].gradNorm, `step ${i + 1}`).toBeCloseTo(1, 4);
    }
    expect(split.events.at(-1)!.loss).toBeLessThan(split.events[0].loss);
    expect(split.kept!.params).toHaveLength(loraLayout(model, loraConfigOf(over)).length); // the whole vector, however the GPU cut it
    const resumed = await trainOn(CAP, split.kept, AT);
    expect(rows(resumed.events)).toEqual(rows(split.events.slice(AT)));
  }, 120_000);

  it('generation on the split base with the graph\'s chunked LoRA in place, and with an uploaded one, gives the reference logits', async () => {
    const engine = createEngine(gpu!);
    const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights), maxBindingBytes: CAP });
    const flat = randomLoraParams(g.layout, 9, 0.1);
    writeFlat(engine.gpu.device.queue, g.lora.params, flat);
    const ids = promptIds(model.vocabSize, 10, 7);
    const want = referenceNextLogits(model, weights, loraWeightsOf(g.layout, flat), ids);
    for (const params of [g.lora.params, flat]) {
      const dec = await createDecoder(engine, model, g.base, { layout: g.layout, params }, { maxLen: 16, prefillChunk: 8, maxBindingBytes: CAP });
      dec.reset(true);
      // 8 rows through the prefill (tiled) path, then 2 through the one-row (matvec) path.
      await dec.feed(ids.slice(0, 8));
      await dec.feed(ids.slice(8, 9));
      expect(mismatches(await dec.feed(ids.slice(9)), want, 1e-4, 1e-4)).toBeNull();
      dec.destroy();
    }
    // A KV cache above the limit is refused with the longest length that fits.
    await expect(createDecoder(engine, model, g.base, null, { maxLen: 64, maxBindingBytes: 8 * 1024 })).rejects.toThrow(/KV cache of 64 positions needs .* generate at most 32 positions/);
    engine.pool.destroyAll();
  }, 60_000);
});
