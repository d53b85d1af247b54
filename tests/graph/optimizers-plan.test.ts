/**
 * The memory plan of Lion, Adafactor and Sophia runs equals the ledger of a real build byte for
 * byte, and their optimizer state is what each keeps: Lion one vector of the LoRA parameters,
 * Sophia two (m and h, as AdamW), Adafactor only rows + columns per tensor (plus m with beta1).
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/context';
import { buildTrainGraph, loraConfigOf } from '../../src/model/graph/train-graph';
import { loraLayout } from '../../src/model/plan/lora-layout';
import { planMemory } from '../../src/model/plan/memory-plan';
import { parseRunConfig, type RunConfigInput } from '../../src/config/run-config';
import { tinyModelConfig } from '../../src/model/synthetic';
import { testGpu } from '../gpu/gpu';

const gpu = await testGpu();
const model = tinyModelConfig();
const base: RunConfigInput = { rank: 8, targets: ['query', 'value', 'mlp', 'head'], maxSeqLen: 16, microBatch: 2, vocabChunk: 64 };

const CONFIGS: RunConfigInput[] = [
  { optimizer: 'lion' },
  { optimizer: 'adafactor' },
  { optimizer: 'adafactor', adafactorBeta1: 0.9 },
  { optimizer: 'sophia', dropout: 0.1 },
  { optimizer: 'adamw' },
];

describe.skipIf(!gpu)('memory plan of the Lion, Adafactor and Sophia runs', () => {
  const optimizerBytes: Record<string, number> = {};
  for (const over of CONFIGS) {
    const name = `${over.optimizer}${over.adafactorBeta1 ? ' + beta1' : ''}`;
    it(`${name}: the plan equals the ledger, and the ledger the real buffers`, async () => {
      const run = parseRunConfig({ ...base, ...over });
      const plan = await planMemory(model, run, gpu!.limits, gpu!.features);
      const engine = createEngine(gpu!);
      await buildTrainGraph(engine, model, run);
      const ledger = engine.pool.ledgerSnapshot();
      const real = engine.pool.allocatedBuffers();
      engine.pool.destroyAll();
      expect(ledger.current).toEqual(plan.byCategory);
      expect(ledger.total).toBe(plan.total);
      expect(real.reduce((s, b) => s + b.size, 0)).toBe(ledger.total);
      expect(real.length).toBe(plan.buffers.length);
      optimizerBytes[name] = plan.byCategory.optimizer;
    });
  }

  it('each keeps the state it should', () => {
    const layout = loraLayout(model, loraConfigOf(parseRunConfig(base)));
    const P = 4 * layout.length;
    const F = 4 * layout.slots.reduce((n, s) => n + 2 * s.r + s.inFeatures + s.outFeatures, 0);
    expect(optimizerBytes.adamw).toBe(2 * P);
    expect(optimizerBytes.lion).toBe(P);
    expect(optimizerBytes.sophia).toBe(2 * P);
    // Adafactor: its second moment plus the tensor table (32 B a tensor), per-tensor stats (16 B) and a 16 B stand-in for m
    const tensors = 2 * layout.slots.length;
    expect(optimizerBytes.adafactor).toBe(F + 48 * tensors + 16);
    expect(optimizerBytes['adafactor + beta1']).toBe(F + 48 * tensors + P);
    expect(optimizerBytes.adafactor).toBeLessThan(optimizerBytes.lion);
  });
});
