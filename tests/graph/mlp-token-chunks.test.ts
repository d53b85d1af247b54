/**
 * The MLP in token-row chunks (src/model/graph/mlp-chunks.ts): a tiny Llama whose MLP is wide
 * (C = 16, F = 192) at N = 2 x 32 tokens, under a 16 KiB binding, so (N, C) fits and (N, F) does
 * not: the MLP runs in 4 chunks of 16 rows. The plan has no buffer above the limit and equals the
 * ledger; loss, LoRA gradients and an AdamW step equal the CPU reference, and the unchunked graph's
 * (the loss bit for bit: every MLP op is per row; the weight gradients within 1e-6, summed chunk by
 * chunk); the same with dropout (masks continue across chunks), checkpointing, bf16 activations, a
 * Gemma 3 model (GeGLU, sandwich norms), DoRA and full finetuning. Unsplit, the graph is unchanged.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BF16_SAME_MODE_FRACTION, BF16_SAME_MODE_TOLERANCES } from '../../src/cli/golden/check';
import { compareNormwise, formatComparison } from '../../src/cli/golden/compare';
import { parseModelConfig, type ModelConfig } from '../../src/config/model-config';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../../src/config/run-config';
import { dropoutMask, dropoutStream } from '../../src/core/rng';
import { epochBatches } from '../../src/data/batching';
import { createEngine } from '../../src/engine/context';
import { DEFAULT_LIMITS } from '../../src/engine/dry-run';
import { prepareDropout } from '../../src/engine/kernels/dropout';
import { readBuffers } from '../../src/engine/readback';
import { readFullTensors } from '../../src/model/graph/full-state';
import { readFlats, writeFlat } from '../../src/model/graph/lora-state';
import { mlpRowChunks, rowGranule } from '../../src/model/graph/mlp-chunks';
import { buildTrainGraph } from '../../src/model/graph/train-graph';
import { fitProblems } from '../../src/model/plan/fit';
import { planMemory } from '../../src/model/plan/memory-plan';
import { chainDataset, loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { adamwStep, lossAndGrads, seededDropout } from '../../src/reference';
import { submitMicroBatch, submitOptimizerStep } from '../../src/train/step';
import { loraWeightsOf, randomLoraParams } from '../generate/helpers';
import { mismatches, rand, read, run as runOps, testEngine, testGpu, upload } from '../gpu/gpu';
import { FAMILIES } from './families';

const gpu = await testGpu();
const CAP = 16 * 1024;
const B = 2;
const T = 32;
const N = B * T;
const llama = tinyModelConfig({ hiddenSize: 16, intermediateSize: 192, numHeads: 2, numKvHeads: 1, headDim: 8 });
const gemma: ModelConfig = { ...FAMILIES.gemma3, hiddenSize: 16, intermediateSize: 192, numHeads: 2, headDim: 8, embedScale: 4 };
const batch = epochBatches(chainDataset(llama.vocabSize, 4, T + 1, 5), B, T, 0, 3, 0)[0];
const ALL: RunConfigInput['targets'] = ['query', 'key', 'value', 'projection', 'mlp', 'head'];
const BASE: RunConfigInput = {
  maxSeqLen: T, microBatch: B, targets: ALL, rank: 4, alpha: 8, seed: 3, basePrecision: 'f32', vocabChunk: 64,
  learningRate: 1e-2, gradClip: 0, schedule: 'constant', rankPattern: { 'model.layers.1.mlp.down_proj': 8 },
};
const MLP_PATH = /\.mlp\./;

describe('mlpRowChunks', () => {
  it('one chunk when (N, F) fits; else aligned rows that fit, covering N', () => {
    expect(mlpRowChunks(64, 192, 64 * 192 * 4, [16, 4])).toEqual([[0, 64]]);
    expect(mlpRowChunks(64, 192, CAP, [16, 4, 8])).toEqual([[0, 16], [16, 16], [32, 16], [48, 16]]);
    // Llama-3-8B at 1 x 4096, r16, 128 MiB: 2340 rows of (., 14336) f32 fit.
    expect(mlpRowChunks(4096, 14336, 2 ** 27, [4096, 16])).toEqual([[0, 2340], [2340, 1756]]);
    // Rows that keep row offsets 256-byte aligned for every width (C, ranks) and whole dropout blocks of F.
    expect(rowGranule(14336, [4096, 16])).toBe(4);
    expect(rowGranule(6, [64, 3])).toBe(64);
    expect(rowGranule(10, [64])).toBe(2);
  });
});

describe('plans of real shapes whose MLP splits (WebGPU default limits)', () => {
  const cfg = (name: string) => parseModelConfig(JSON.parse(readFileSync(`tests/fixtures/configs/${name}.json`, 'utf8')));
  const features = { f16: false, subgroups: false, timestamps: false };
  it('Llama-3-8B, QLoRA r16 all linear, 1 x 4096, checkpointing: every buffer within one binding, and it fits', async () => {
    const run = parseRunConfig({ rank: 16, targets: ['query', 'key', 'value', 'projection', 'mlp'], basePrecision: 'nf4', microBatch: 1, maxSeqLen: 4096, activationCheckpointing: true });
    const model = cfg('llama-3-8b');
    const plan = await planMemory(model, run, DEFAULT_LIMITS, features);
    expect(plan.largest.bytes).toBeLessThanOrEqual(DEFAULT_LIMITS.maxStorageBufferBindingSize);
    expect(plan.buffers.filter((b) => b.label.startsWith('recomputed layer gate rows ')).map((b) => b.label)).toEqual([
      'recomputed layer gate rows [0:2340] (2340, F)', 'recomputed layer gate rows [2340:4096] (1756, F)',
    ]);
    expect(await fitProblems(model, plan, run, { limits: DEFAULT_LIMITS, features })).toEqual([]);
  });
});

describe.skipIf(!gpu)('the MLP in token-row chunks under a 16 KiB binding', () => {
  const limits = () => ({ ...gpu!.limits, maxBufferSize: CAP, maxStorageBufferBindingSize: CAP });

  it('plan: no buffer above the limit, equal to the ledger; unsplit, the graph has no chunk', async () => {
    for (const over of [{}, { dropout: 0.1, activationPrecision: 'bf16' as const }, { useDora: true, targets: ['value', 'mlp'], activationCheckpointing: true }]) {
      const run = parseRunConfig({ ...BASE, ...over });
      const plan = await planMemory(llama, run, limits(), gpu!.features);
      expect(plan.largest.bytes, JSON.stringify(over)).toBeLessThanOrEqual(CAP);
      const engine = createEngine(gpu!);
      const g = await buildTrainGraph(engine, llama, run, { maxBindingBytes: CAP });
      const ledger = engine.pool.ledgerSnapshot();
      engine.pool.destroyAll();
      if (run.useDora) {
        // DoRA's norms are per module, not per token: computed once per forward, as unsplit.
        const norms = (ops: { label: string }[]) => ops.filter((op) => op.label.includes('dora norm')).length;
        const unsplit = await buildTrainGraph(engine, llama, run);
        engine.pool.destroyAll();
        expect(norms(g.forward)).toBe(4 * llama.numLayers);
        expect(norms(g.forward)).toBe(norms(unsplit.forward));
      }
      expect(g.dims.mlpChunks).toEqual([[0, 16], [16, 16], [32, 16], [48, 16]]);
      expect(g.act.layers[0].g).toHaveLength(4);
      expect(ledger.current).toEqual(plan.byCategory);
      expect(ledger.total).toBe(plan.total);
      // Unsplit: one (N, F) buffer per field, no chunk in any op's name; the activations are as large in all.
      const whole = await planMemory(llama, run, gpu!.limits, gpu!.features);
      expect(whole.buffers.some((b) => / rows \[/.test(b.label))).toBe(false);
      expect(whole.buffers.filter((b) => b.label.endsWith(' gate (N, F)')).map((b) => b.bytes)[0]).toBe(4 * N * 192);
      expect(plan.byCategory.activations).toBe(whole.byCategory.activations);
      expect(plan.byCategory.workspace).toBeLessThan(whole.byCategory.workspace);
    }
    const engine = createEngine(gpu!);
    const g = await buildTrainGraph(engine, llama, parseRunConfig(BASE));
    engine.pool.destroyAll();
    expect(g.dims.mlpChunks).toEqual([[0, N]]);
    expect([...g.forward, ...g.backward].some((op) => op.label.includes(' rows ['))).toBe(false);
  });

  it('still refuses what cannot be split: (N, C) rows above the limit, naming the change that fits', async () => {
    const run = parseRunConfig({ ...BASE, microBatch: 16 }); // N = 512: (N, C) is 32 KiB
    const plan = await planMemory(llama, run, limits(), gpu!.features);
    expect(plan.buffers.filter((b) => b.label.endsWith('(N, C)') && b.bytes > CAP).length).toBeGreaterThan(0);
    const problems = await fitProblems(llama, plan, run, { limits: limits(), features: gpu!.features });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^buffer "[^"]+" \((activations|workspace)\) needs [\d.]+ KiB, above the 16\.0 KiB this GPU allows in one buffer \((maxBufferSize|maxStorageBufferBindingSize)\).*Any one of these fits: micro-batch 2 \(now 16\)/);
  });

  it('the dropout kernel at an element offset draws the whole input\'s mask', async () => {
    const e = (await testEngine())!;
    const n = 1000, e0 = 2048, p = 0.3, seed = 5, stream = dropoutStream(1, 0, 1, 6);
    const x = rand(n, 4);
    const [gx, gy] = await Promise.all([upload(e, x, 'x'), upload(e, new Float32Array(n), 'y')]);
    runOps(e, await prepareDropout(e, { out: gy, inp: gx, n, p, seed, stream, elementOffset: e0 }));
    const y = await read(e, gy, n);
    const keep = dropoutMask(p, seed, stream, e0 + n).keep.subarray(e0);
    const s = Math.fround(1 / (1 - p));
    expect(y.findIndex((v, j) => v !== (keep[j] ? Math.fround(x[j] * s) : 0))).toBe(-1);
    await expect(prepareDropout(e, { out: gy, inp: gx, n, p, seed, stream, elementOffset: 6 })).rejects.toThrow(/elementOffset 6 must be a multiple of 4/);
    e.pool.destroyAll();
  });

  /** One micro-batch and one AdamW step: the parameters before, loss, the flat gradient, the parameters after the step (and full finetuning's gradient tensors). */
  async function stepOf(model: ModelConfig, run: RunConfig, cap: number | undefined, flat: Float32Array<ArrayBuffer> | null) {
    const engine = createEngine(gpu!);
    const g = await buildTrainGraph(engine, model, run, { load: loaderOf(tinyWeights(model, 2)), ...(cap ? { maxBindingBytes: cap } : {}) });
    expect(g.dims.mlpChunks.length).toBe(cap ? 4 : 1);
    if (flat) writeFlat(engine.gpu.device.queue, g.lora.params, flat);
    const [before] = await readFlats(engine, [g.lora.params]);
    submitMicroBatch(g, batch, 0, 0);
    const [grads] = await readFlats(engine, [g.lora.grads]);
    const fullGrads = g.full ? await readFullTensors(engine, g.full, g.lora.grads) : null;
    const [lossBytes] = await readBuffers(engine.gpu.device, [{ buffer: g.stepLoss, size: 4 }]);
    submitOptimizerStep(g, 0, run.learningRate);
    const [after] = await readFlats(engine, [g.lora.params]);
    engine.pool.destroyAll();
    return { before, loss: new Float32Array(lossBytes)[0], grads, after, fullGrads, layout: g.layout };
  }

  /** Chunked vs unchunked: the loss bit for bit, gradients outside the MLP too, the MLP's within 1e-6 of their largest. */
  function expectSameAsUnchunked(split: Awaited<ReturnType<typeof stepOf>>, whole: Awaited<ReturnType<typeof stepOf>>, what: string) {
    expect(split.loss, `${what} loss`).toBe(whole.loss);
    const scale = Math.max(...whole.grads.map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    for (const s of whole.layout.slots) {
      const ranges: [string, number, number][] = [['A', s.offsetA, s.r * s.inFeatures], ['B', s.offsetB, s.outFeatures * s.r]];
      if (s.offsetM !== undefined) ranges.push(['m', s.offsetM, s.outFeatures]);
      for (const [name, at, n] of ranges) {
        const got = split.grads.subarray(at, at + n);
        const want = whole.grads.subarray(at, at + n);
        if (MLP_PATH.test(s.path)) expect(mismatches(got, want, 1e-6 * scale, 1e-6), `${what} ${s.path} d${name}`).toBeNull();
        else expect(Array.from(got), `${what} ${s.path} d${name} (outside the MLP: bit for bit)`).toEqual(Array.from(want));
      }
    }
  }

  /** The reference's loss and flat gradient, and the AdamW step from `flat`. */
  function referenceOf(model: ModelConfig, run: RunConfig, layout: Awaited<ReturnType<typeof stepOf>>['layout'], flat: Float32Array) {
    const ref = lossAndGrads({ config: model, weights: tinyWeights(model, 2) }, loraWeightsOf(layout, flat), batch.tokens, batch.targets, B, T, {
      dropout: run.dropout > 0 ? seededDropout(run.seed, 0, run.dropout, 0) : undefined,
      activationPrecision: run.activationPrecision, activationCheckpointing: run.activationCheckpointing,
    });
    const grads = new Float64Array(layout.length);
    for (const s of layout.slots) {
      grads.set(ref.grads.get(s.path)!.dA, s.offsetA);
      grads.set(ref.grads.get(s.path)!.dB, s.offsetB);
    }
    const after = Float64Array.from(flat);
    adamwStep(after, grads, new Float64Array(after.length), new Float64Array(after.length), 1, {
      lr: run.learningRate, beta1: run.betas[0], beta2: run.betas[1], eps: run.eps, weightDecay: run.weightDecay,
    });
    return { loss: ref.loss, grads, after };
  }

  const CASES: [string, ModelConfig, RunConfigInput][] = [
    ['f32', llama, {}],
    ['dropout 0.2', llama, { dropout: 0.2 }],
    ['checkpointing with dropout', llama, { dropout: 0.2, activationCheckpointing: true }],
    ['Gemma 3 (GeGLU, sandwich norms, q/k norms)', gemma, {}],
  ];
  for (const [name, model, over] of CASES) {
    it(`${name}: loss, every LoRA gradient and one AdamW step equal the CPU reference and the unchunked graph`, async () => {
      const run = parseRunConfig({ ...BASE, ...over });
      const flat = randomLoraParams((await stepOf(model, run, CAP, null)).layout, 7, 0.1);
      const split = await stepOf(model, run, CAP, flat);
      const whole = await stepOf(model, run, undefined, flat);
      expectSameAsUnchunked(split, whole, name);
      const ref = referenceOf(model, run, split.layout, flat);
      expect(mismatches([split.loss], [ref.loss], 1e-5, 1e-5)).toBeNull();
      const scale = Math.max(...ref.grads.map(Math.abs));
      expect(mismatches(split.grads, ref.grads, 1e-4 * scale, 2e-3), `${name} grads`).toBeNull();
      // AdamW's first step is about lr * sign(g); 0.5% of lr as in tests/graph/limits-split.test.ts.
      expect(mismatches(split.after, ref.after, 5e-3 * run.learningRate, 1e-5), `${name} step`).toBeNull();
    }, 30_000);
  }

  it('bf16 activations, with and without checkpointing: per-chunk packed copies, the unchunked graph\'s values and the reference in bf16 mode', async () => {
    for (const activationCheckpointing of [false, true]) {
      const run = parseRunConfig({ ...BASE, dropout: 0.1, activationPrecision: 'bf16', activationCheckpointing });
      const flat = randomLoraParams((await stepOf(llama, run, CAP, null)).layout, 7, 0.1);
      const split = await stepOf(llama, run, CAP, flat);
      const whole = await stepOf(llama, run, undefined, flat);
      expectSameAsUnchunked(split, whole, `bf16 ckpt=${activationCheckpointing}`);
      const ref = referenceOf(llama, run, split.layout, flat);
      const f32 = referenceOf(llama, parseRunConfig({ ...BASE, dropout: 0.1, activationCheckpointing }), split.layout, flat);
      expect(mismatches([split.loss], [ref.loss], 1e-5, 1e-5)).toBeNull();
      const { atol, rtol } = BF16_SAME_MODE_TOLERANCES.grads;
      const cmp = compareNormwise(`bf16 grads ckpt=${activationCheckpointing}`, split.grads, ref.grads, f32.grads, BF16_SAME_MODE_FRACTION, atol, rtol);
      expect(cmp.ok, formatComparison(cmp)).toBe(true);
    }
  }, 30_000);

  it('DoRA: the magnitudes\' norms once per module, gradients (A, B, m) as the unchunked graph\'s', async () => {
    const run = parseRunConfig({ ...BASE, useDora: true, dropout: 0.1, targets: ['value', 'mlp'] });
    // The magnitudes as initialised from the weights (||W||_row), random A and B (B = 0 would leave dA zero).
    const init = await stepOf(llama, run, undefined, null);
    const params = Float32Array.from(init.before);
    const random = randomLoraParams(init.layout, 9, 0.1);
    for (const s of init.layout.slots) {
      expect(s.offsetM).toBeDefined();
      params.set(random.subarray(s.offsetA, s.offsetA + s.r * s.inFeatures), s.offsetA);
      params.set(random.subarray(s.offsetB, s.offsetB + s.outFeatures * s.r), s.offsetB);
    }
    const split = await stepOf(llama, run, CAP, params);
    const whole = await stepOf(llama, run, undefined, params);
    expectSameAsUnchunked(split, whole, 'DoRA');
    expect(mismatches(split.after, whole.after, 5e-3 * run.learningRate, 1e-5)).toBeNull();
  }, 30_000);

  it('full finetuning: the MLP weights\' gradients (summed over chunks) equal the unchunked run\'s', async () => {
    const run = parseRunConfig({ ...BASE, method: 'full', optimizer: 'adamw', learningRate: 1e-3 });
    const split = await stepOf(llama, run, CAP, null);
    const whole = await stepOf(llama, run, undefined, null);
    expect(split.loss).toBe(whole.loss);
    let mlp = 0;
    for (const [name, t] of whole.fullGrads!) {
      const scale = Math.max(...t.data.map(Math.abs));
      expect(scale, name).toBeGreaterThan(0);
      expect(mismatches(split.fullGrads!.get(name)!.data, t.data, 1e-6 * scale, 1e-6), name).toBeNull();
      if (MLP_PATH.test(name) && name.endsWith('_proj.weight')) mlp++;
    }
    expect(mlp).toBe(3 * llama.numLayers);
    expect(mismatches(split.after, whole.after, 5e-3 * run.learningRate, 1e-5)).toBeNull();
  }, 30_000);
});
