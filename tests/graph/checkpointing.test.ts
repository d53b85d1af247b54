import { afterAll, describe, expect, it } from 'vitest';
import { checkGolden } from '../../src/cli/golden/check';
import { formatComparison } from '../../src/cli/golden/compare';
import { loadGoldenCase } from '../../src/cli/golden/golden-case';
import { runGoldenOnGpu } from '../../src/cli/golden/gpu-engine';
import { createEngine, type Engine } from '../../src/engine/context';
import { buildTrainGraph } from '../../src/model/graph/train-graph';
import { planMemory } from '../../src/model/plan/memory-plan';
import { chainDataset, loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { parseRunConfig, type RunConfigInput } from '../../src/config/run-config';
import { train } from '../../src/train/trainer';
import { testGpu } from '../gpu/gpu';

const gpu = await testGpu();
const model = tinyModelConfig({ numLayers: 3 });
const weights = tinyWeights(model, 5);
const data = chainDataset(model.vocabSize, 48, 17, 9);
const engines: Engine[] = [];
afterAll(() => engines.forEach((e) => e.pool.destroyAll()));

const RUN: RunConfigInput = {
  maxSeqLen: 16, microBatch: 4, learningRate: 1e-2, schedule: 'constant', logEvery: 4, seed: 3, dropout: 0.1,
  targets: ['query', 'key', 'value', 'projection', 'mlp', 'head'], rank: 4, alpha: 8, gradAccumulation: 2,
  rankPattern: { 'model.layers.1.mlp.up_proj': 6 },
};

async function losses(over: RunConfigInput, steps: number, basePrecision: 'f32' | 'nf4'): Promise<number[]> {
  const engine = createEngine(gpu!);
  engines.push(engine);
  const run = parseRunConfig({ ...RUN, maxSteps: steps, basePrecision, ...over });
  const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights) });
  const events = await train(g, { train: data, padId: 0 });
  engine.pool.destroyAll();
  return events.map((e) => e.loss);
}

describe.skipIf(!gpu)('activation checkpointing', () => {
  for (const precision of ['f32', 'nf4'] as const) {
    it(`gives the plain graph's loss curve, bit for bit (${precision}, dropout, rank pattern, accumulation)`, async () => {
      const plain = await losses({}, 6, precision);
      const ckpt = await losses({ activationCheckpointing: true }, 6, precision);
      expect(plain).toHaveLength(6);
      expect(plain.every(Number.isFinite)).toBe(true);
      // Recomputation runs the same kernels on the same inputs with the same dropout streams.
      expect(ckpt).toEqual(plain);
      expect(plain[5]).toBeLessThan(plain[0]);
    });
  }

  it('keeps one activation set instead of one per layer: fewer activation bytes, plan == ledger', async () => {
    const big = tinyModelConfig({ numLayers: 6 });
    const run = (activationCheckpointing: boolean) => parseRunConfig({ ...RUN, activationCheckpointing });
    const plain = await planMemory(big, run(false), gpu!.limits, gpu!.features);
    const ckpt = await planMemory(big, run(true), gpu!.limits, gpu!.features);
    console.log(`activations: plain ${plain.byCategory.activations} B, checkpointed ${ckpt.byCategory.activations} B ` +
      `(${(plain.byCategory.activations / ckpt.byCategory.activations).toFixed(2)}x less)`);
    expect(ckpt.byCategory.activations).toBeLessThan(plain.byCategory.activations / 3);
    for (const c of ['weights', 'lora', 'grads', 'optimizer'] as const) {
      expect(ckpt.byCategory[c], c).toBe(plain.byCategory[c]);
    }
    // Workspace grows only by the recompute ops' uniform blocks.
    expect(ckpt.byCategory.workspace - plain.byCategory.workspace).toBeLessThan(16 * 1024);
    expect(ckpt.buffers.filter((b) => b.label.startsWith('recomputed layer')).length).toBeGreaterThan(0);
    expect(ckpt.buffers.some((b) => /^layer 1 (q|xn1|gate)/.test(b.label))).toBe(false);

    const engine = createEngine(gpu!);
    engines.push(engine);
    await buildTrainGraph(engine, big, run(true));
    const ledger = engine.pool.ledgerSnapshot();
    const real = engine.pool.allocatedBuffers().reduce((s, b) => s + b.size, 0);
    engine.pool.destroyAll();
    expect(ledger.current).toEqual(ckpt.byCategory);
    expect(real).toBe(ckpt.total);
  });

  it('matches the PyTorch golden case (logits, loss, every LoRA gradient, one AdamW step)', async () => {
    const c = await loadGoldenCase('tests/fixtures/golden/llama-tiny');
    const comparisons = await checkGolden(c, await runGoldenOnGpu(c, gpu!, { activationCheckpointing: true }));
    expect(comparisons.filter((x) => !x.ok).map(formatComparison)).toEqual([]);
    expect(comparisons).toHaveLength(63);
  });
});
