import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/context';
import { epochBatches } from '../../src/data/batching';
import { buildTrainGraph, loraConfigOf } from '../../src/model/graph/train-graph';
import { initialLoraParams, readLoraTensors } from '../../src/model/graph/lora-state';
import { loraLayout } from '../../src/model/plan/lora-layout';
import { planMemory } from '../../src/model/plan/memory-plan';
import { countLoraParams } from '../../src/config/param-count';
import { lossAndGrads, seededDropout, type LoraWeights } from '../../src/reference';
import { doraWeightNorm } from '../../src/reference/ops/dora';
import { packWeight, unpackWeight } from '../../src/reference/quant/packed';
import { parseRunConfig, type RunConfigInput } from '../../src/config/run-config';
import { submitMicroBatch } from '../../src/train/step';
import { train } from '../../src/train/trainer';
import { mismatches, testGpu } from '../gpu/gpu';
import { chainDataset, loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';

const gpu = await testGpu();
const model = tinyModelConfig();
const weights = tinyWeights(model, 2);
const data = chainDataset(model.vocabSize, 16, 13, 3);
const nf4Weights = new Map([...weights].map(([n, w]) => [n, /_proj\.weight$|^lm_head\.weight$/.test(n) ? unpackWeight(packWeight(w, 'nf4')) : w]));
const rowNorms = (W: Float32Array, out: number, inF: number) => {
  const n = new Float64Array(out);
  doraWeightNorm(n, W, new Float32Array(inF), new Float32Array(out), 0, inF, 1, out);
  return n;
};

describe.skipIf(!gpu)('DoRA in the training graph', () => {
  it('fresh magnitudes are ||W||_row of the packed base weight (PEFT init), computed on the GPU', async () => {
    for (const basePrecision of ['nf4'] as const) {
      const engine = createEngine(gpu!);
      const run = parseRunConfig({ useDora: true, basePrecision, targets: ['value', 'mlp', 'head'], rank: 2, maxSeqLen: 8, microBatch: 2, vocabChunk: 64 });
      const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights) });
      const got = await readLoraTensors(engine, g.lora.params, g.layout);
      for (const s of g.layout.slots) {
        const W = (basePrecision === 'nf4' ? nf4Weights : weights).get(`${s.path}.weight`)!;
        expect(mismatches(got.get(s.path)!.M!, rowNorms(W, s.outFeatures, s.inFeatures), 1e-5, 1e-5), `${basePrecision} ${s.path}`).toBeNull();
      }
      engine.pool.destroyAll();
    }
  });

  it('NF4 base, dropout and activation checkpointing: the gradients of A, B and m match the CPU reference', async () => {
    const run = parseRunConfig({
      useDora: true, basePrecision: 'nf4', dropout: 0.3, activationCheckpointing: true, targets: ['query', 'projection', 'mlp', 'head'],
      rank: 3, alpha: 6, maxSeqLen: 8, microBatch: 2, seed: 5, vocabChunk: 64,
    });
    const layout = loraLayout(model, loraConfigOf(run));
    // Non-zero B and magnitudes away from the norm, so every DoRA term matters.
    const flat = initialLoraParams(layout, run.seed);
    const lora: LoraWeights = new Map();
    for (const [k, s] of layout.slots.entries()) {
      const B = Float32Array.from({ length: s.outFeatures * s.r }, (_, i) => 0.2 * Math.sin(i + 7 * k));
      const W = nf4Weights.get(`${s.path}.weight`)!;
      const M = Float32Array.from(rowNorms(W, s.outFeatures, s.inFeatures), (x, i) => x * (1 + 0.1 * Math.cos(i + k)));
      flat.set(B, s.offsetB);
      flat.set(M, s.offsetM!);
      lora.set(s.path, { A: flat.slice(s.offsetA, s.offsetA + s.r * s.inFeatures), B, m: M, r: s.r, scale: s.scale });
    }
    const engine = createEngine(gpu!);
    const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights), initialLora: flat });
    const batch = epochBatches(data, 2, 8, 0, 5, 0)[0];
    submitMicroBatch(g, batch, 3, 0);
    const got = await readLoraTensors(engine, g.lora.grads, g.layout);
    engine.pool.destroyAll();
    const ref = lossAndGrads({ config: model, weights: nf4Weights }, lora, batch.tokens, batch.targets, 2, 8, { dropout: seededDropout(run.seed, 3, 0.3, 0) });
    for (const s of layout.slots) {
      const want = ref.grads.get(s.path)!;
      const have = got.get(s.path)!;
      expect(mismatches(have.A, want.dA, 1e-5, 1e-3), `${s.path} dA`).toBeNull();
      expect(mismatches(have.B, want.dB, 1e-5, 1e-3), `${s.path} dB`).toBeNull();
      expect(mismatches(have.M!, want.dm!, 1e-5, 1e-3), `${s.path} dm`).toBeNull();
    }
  });

  it('a tied head: W is the embedding table read as the head (PEFT adapts lm_head only); init and gradients match the CPU reference', async () => {
    const tied = tinyModelConfig({ tieWordEmbeddings: true });
    const tw = tinyWeights(tied, 4);
    const run = parseRunConfig({ useDora: true, targets: ['head'], rank: 2, alpha: 4, maxSeqLen: 8, microBatch: 2, seed: 2, vocabChunk: 64 });
    const engine = createEngine(gpu!);
    const fresh = await buildTrainGraph(engine, tied, run, { load: loaderOf(tw) });
    const init = await readLoraTensors(engine, fresh.lora.params, fresh.layout);
    engine.pool.destroyAll();
    expect(mismatches(init.get('lm_head')!.M!, rowNorms(tw.get('model.embed_tokens.weight')!, tied.vocabSize, tied.hiddenSize), 1e-5, 1e-5)).toBeNull();

    const layout = loraLayout(tied, loraConfigOf(run));
    const s = layout.slots[0];
    const flat = initialLoraParams(layout, run.seed);
    const B = Float32Array.from({ length: s.outFeatures * s.r }, (_, i) => 0.2 * Math.sin(i));
    const M = Float32Array.from(init.get('lm_head')!.M!, (x, i) => x * (1 + 0.1 * Math.cos(i)));
    flat.set(B, s.offsetB);
    flat.set(M, s.offsetM!);
    const lora: LoraWeights = new Map([[s.path, { A: flat.slice(s.offsetA, s.offsetA + s.r * s.inFeatures), B, m: M, r: s.r, scale: s.scale }]]);
    const engine2 = createEngine(gpu!); // a fresh engine: destroyAll freed the first one's shared buffers
    const g = await buildTrainGraph(engine2, tied, run, { load: loaderOf(tw), initialLora: flat });
    const batch = epochBatches(data, 2, 8, 0, 5, 0)[0];
    submitMicroBatch(g, batch, 0, 0);
    const got = (await readLoraTensors(engine2, g.lora.grads, g.layout)).get('lm_head')!;
    engine2.pool.destroyAll();
    const want = lossAndGrads({ config: tied, weights: tw }, lora, batch.tokens, batch.targets, 2, 8).grads.get('lm_head')!;
    expect([mismatches(got.A, want.dA, 1e-5, 1e-3), mismatches(got.B, want.dB, 1e-5, 1e-3), mismatches(got.M!, want.dm!, 1e-5, 1e-3)]).toEqual([null, null, null]);
  });

  it('a 30-step DoRA run with SGD lowers the loss', async () => {
    const engine = createEngine(gpu!);
    const run = parseRunConfig({ useDora: true, optimizer: 'sgd', momentum: 0.9, learningRate: 0.05, schedule: 'constant', targets: ['query', 'value', 'mlp'], rank: 4, alpha: 8, maxSeqLen: 12, microBatch: 4, maxSteps: 30, logEvery: 5 });
    const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights) });
    const losses = (await train(g, { train: data, padId: 0 })).map((e) => e.loss);
    engine.pool.destroyAll();
    const last = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(last).toBeLessThan(0.85 * losses[0]);
  });

  it('refuses DoRA with full finetuning, with what to change; takes it on the LM head', () => {
    expect(parseRunConfig({ useDora: true, targets: ['query', 'head'] }).useDora).toBe(true);
    expect(() => parseRunConfig({ useDora: true, method: 'full' })).toThrow(/useDora: DoRA is a LoRA method/);
  });

  const plans: RunConfigInput[] = [
    { useDora: true, rank: 4, targets: ['query', 'key', 'value', 'projection', 'mlp'], basePrecision: 'nf4', doubleQuant: true, maxSeqLen: 9, microBatch: 3, dropout: 0.1 },
    { useDora: true, rank: 2, targets: ['mlp'], basePrecision: 'int8', maxSeqLen: 16, microBatch: 2, optimizer: 'sgd', momentum: 0.9 },
    { useDora: true, rank: 4, targets: ['value', 'head'], maxSeqLen: 8, microBatch: 2, dropout: 0.1, vocabChunk: 64 },
  ];
  for (const [i, over] of plans.entries()) {
    it(`the memory plan equals the ledger, and counts the magnitudes (config ${i + 1})`, async () => {
      const run = parseRunConfig(over);
      const plan = await planMemory(model, run, gpu!.limits, gpu!.features);
      const engine = createEngine(gpu!);
      const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights) });
      const ledger = engine.pool.ledgerSnapshot();
      engine.pool.destroyAll();
      expect(ledger.current).toEqual(plan.byCategory);
      expect(ledger.total).toBe(plan.total);
      const lora = loraConfigOf(run);
      expect(g.layout.params).toBe(countLoraParams(model, lora));
      expect(g.layout.params - countLoraParams(model, { ...lora, useDora: false })).toBe(g.layout.slots.reduce((n, s) => n + s.outFeatures, 0));
      expect(plan.buffers.filter((b) => /dora norm \(\d+\)$/.test(b.label))).toHaveLength(g.layout.slots.length);
    });
  }
});
