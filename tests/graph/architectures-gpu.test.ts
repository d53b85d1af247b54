/**
 * Qwen3, Gemma 3 and Gemma 2 through the GPU training graph against the CPU reference on the same
 * weights: the loss and every LoRA gradient of one micro-batch (with and without activation
 * checkpointing), the memory plan against the ledger, and a few steps that lower the loss in NF4.
 */
import { describe, expect, it } from 'vitest';
import { parseRunConfig, type RunConfigInput } from '../../src/config/run-config';
import { epochBatches } from '../../src/data/batching';
import { createEngine } from '../../src/engine/context';
import { initialLoraParams, readLoraTensors } from '../../src/model/graph/lora-state';
import { buildTrainGraph, loraConfigOf } from '../../src/model/graph/train-graph';
import { planMemory } from '../../src/model/plan/memory-plan';
import { loraLayout } from '../../src/model/plan/lora-layout';
import { chainDataset, loaderOf, tinyWeights } from '../../src/model/synthetic';
import { Prng } from '../../src/core/rng';
import { lossAndGrads, type LoraWeights } from '../../src/reference';
import { evaluate, submitMicroBatch } from '../../src/train/step';
import { train } from '../../src/train/trainer';
import { mismatches, testGpu } from '../gpu/gpu';
import { FAMILIES } from './families';

const gpu = await testGpu();

const ALL_TARGETS = ['query', 'key', 'value', 'projection', 'mlp', 'head'] as const;

describe.skipIf(!gpu)('Qwen3 and Gemma on the GPU against the CPU reference', () => {
  for (const [family, model] of Object.entries(FAMILIES)) {
    // Checkpointing recomputes each layer: checked on the family with every feature (Gemma 3).
    for (const checkpointing of family === 'gemma3' ? [false, true] : [false]) {
      it(`${family}${checkpointing ? ', activation checkpointing' : ''}: loss and every LoRA gradient of a micro-batch`, async () => {
        const weights = tinyWeights(model, 3);
        const run = parseRunConfig({
          maxSeqLen: 12, microBatch: 2, targets: [...ALL_TARGETS], rank: 3, alpha: 6, seed: 5, vocabChunk: 64,
          activationCheckpointing: checkpointing,
        });
        const batch = epochBatches(chainDataset(model.vocabSize, 8, 13, 2), 2, 12, 0, 5, 0)[0];
        const layout = loraLayout(model, loraConfigOf(run));
        const flat = initialLoraParams(layout, run.seed);
        // B is zero at init, which would hide every A gradient: give B values, on both sides.
        const rng = new Prng(9, 0);
        for (const s of layout.slots) for (let i = 0; i < s.outFeatures * s.r; i++) flat[s.offsetB + i] = 0.2 * (2 * rng.nextFloat() - 1);
        const engine = createEngine(gpu!);
        const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights), initialLora: flat });
        submitMicroBatch(g, batch, 0, 0);
        const grads = await readLoraTensors(engine, g.lora.grads, g.layout);
        const loss = await evaluate(g, [batch]);
        engine.pool.destroyAll();

        const lora: LoraWeights = new Map(layout.slots.map((s) => [s.path, {
          A: flat.slice(s.offsetA, s.offsetA + s.r * s.inFeatures), B: flat.slice(s.offsetB, s.offsetB + s.outFeatures * s.r), r: s.r, scale: s.scale,
        }]));
        const ref = lossAndGrads({ config: model, weights }, lora, batch.tokens, batch.targets, 2, 12);
        expect(mismatches([loss], [ref.loss], 1e-4, 1e-4)).toBeNull();
        for (const s of layout.slots) {
          const want = ref.grads.get(s.path)!;
          const got = grads.get(s.path)!;
          expect(mismatches(got.B, want.dB, 1e-5, 1e-3), `${s.path} dB`).toBeNull();
          expect(mismatches(got.A, want.dA, 1e-5, 1e-3), `${s.path} dA`).toBeNull();
        }
      });
    }

    it(`${family}: the memory plan equals the ledger byte for byte`, async () => {
      const run = parseRunConfig({ maxSeqLen: 12, microBatch: 2, targets: [...ALL_TARGETS], rank: 4, basePrecision: 'nf4', activationCheckpointing: true });
      const plan = await planMemory(model, run, gpu!.limits, gpu!.features);
      const engine = createEngine(gpu!);
      await buildTrainGraph(engine, model, run);
      const ledger = engine.pool.ledgerSnapshot();
      engine.pool.destroyAll();
      expect(ledger.current).toEqual(plan.byCategory);
      expect(ledger.total).toBe(plan.total);
    });

    if (family === 'gemma3') it(`${family}: 30 NF4 steps lower the loss`, async () => {
      const over: RunConfigInput = { basePrecision: 'nf4', maxSeqLen: 12, microBatch: 4, maxSteps: 30, learningRate: 1e-2, schedule: 'constant', logEvery: 10, targets: ['query', 'value', 'mlp'], rank: 4, alpha: 8 };
      const engine = createEngine(gpu!);
      const g = await buildTrainGraph(engine, model, parseRunConfig(over), { load: loaderOf(tinyWeights(model, 4)) });
      const events = await train(g, { train: chainDataset(model.vocabSize, 32, 13), padId: 0 });
      engine.pool.destroyAll();
      expect(events.at(-1)!.loss).toBeLessThan(0.8 * events[0].loss);
    });
  }
});
