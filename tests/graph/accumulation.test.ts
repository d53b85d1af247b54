import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/context';
import { buildTrainGraph } from '../../src/model/graph/train-graph';
import { chainDataset, loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { parseRunConfig, type RunConfigInput } from '../../src/config/run-config';
import { train, type StepEvent } from '../../src/train/trainer';
import { mismatches, testGpu } from '../gpu/gpu';

const gpu = await testGpu();
const model = tinyModelConfig();
const weights = tinyWeights(model, 4);
// Every sequence is longer than T, so every position has a target and every micro-batch has the
// same token count: the mean of micro-batch means is then the mean over the whole batch.
const data = chainDataset(model.vocabSize, 24, 20, 9);

async function run(over: RunConfigInput, validation = false): Promise<StepEvent[]> {
  const engine = createEngine(gpu!);
  const g = await buildTrainGraph(engine, model, parseRunConfig({
    maxSeqLen: 12, maxSteps: 6, learningRate: 5e-3, schedule: 'constant', targets: ['query', 'value', 'head'], rank: 4, alpha: 8, seed: 8, logEvery: 3, ...over,
  }), { load: loaderOf(weights) });
  const events = await train(g, { train: data, validation: validation ? data.slice(0, 8) : undefined, padId: 0 });
  engine.pool.destroyAll();
  return events;
}

describe.skipIf(!gpu)('gradient accumulation and validation', () => {
  it('two accumulated micro-batches of 2 train like one micro-batch of 4', async () => {
    const whole = (await run({ microBatch: 4, gradAccumulation: 1 })).map((e) => e.loss);
    const accumulated = (await run({ microBatch: 2, gradAccumulation: 2 })).map((e) => e.loss);
    expect(whole).toHaveLength(6);
    expect(mismatches(accumulated, whole, 1e-5, 1e-4)).toBeNull();
  });

  it('reports a validation loss every evalEvery steps, computed without dropout', async () => {
    const events = await run({ microBatch: 4, evalEvery: 3, dropout: 0.2 }, true);
    const withEval = events.filter((e) => e.evalLoss !== undefined).map((e) => e.step);
    expect(withEval).toEqual([3, 6]);
    expect(events[5].evalLoss!).toBeGreaterThan(0);
    expect(events[5].evalLoss!).toBeLessThan(events[2].evalLoss!);
  });
});
