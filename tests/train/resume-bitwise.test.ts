/**
 * Resuming from a checkpoint is exact: a run snapshotted between steps, rebuilt from scratch into
 * a fresh graph on the same device and continued with `startStep`, reports the same losses,
 * gradient norms and learning rates, bit for bit, as the run that was never interrupted. With
 * dropout, gradient accumulation over a resume point in the middle of an epoch, and a cosine
 * schedule; for AdamW and for SGD with momentum. Resuming without the optimizer moments does not
 * match, so the comparison can fail.
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/context';
import { createCheckpointStore } from '../../src/io/stores/checkpoints';
import { memoryKv } from '../../src/io/stores/kv';
import { buildTrainGraph } from '../../src/model/graph/train-graph';
import { writeFlat } from '../../src/model/graph/lora-state';
import { chainDataset, loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { dataPosition, isFiniteState, restoreTrainState, snapshotTrainState, type TrainState } from '../../src/train/checkpoint';
import { parseRunConfig, type RunConfigInput } from '../../src/config/run-config';
import { train, type StepEvent } from '../../src/train/trainer';
import { testGpu } from '../gpu/gpu';

const gpu = await testGpu();
const model = tinyModelConfig();
const weights = tinyWeights(model, 4);
const data = chainDataset(model.vocabSize, 10, 20, 9); // 5 micro-batches of 2 per epoch
const AT = 3; // resume before step index 3: 6 micro-batches consumed, i.e. epoch 1, micro-batch 1

const base: RunConfigInput = {
  maxSeqLen: 12, maxSteps: 8, microBatch: 2, gradAccumulation: 2, dropout: 0.1, schedule: 'cosine', minLrRatio: 0.1,
  learningRate: 5e-3, targets: ['query', 'value', 'mlp'], rank: 4, alpha: 8, seed: 11, logEvery: 1,
};

type Row = [number, number, number, number, number];
const rows = (events: StepEvent[]): Row[] => events.map((e) => [e.step, e.loss, e.gradNorm, e.lr, e.epoch]);

/** The uninterrupted run, with the state snapshotted before step AT. */
async function whole(over: RunConfigInput): Promise<{ events: StepEvent[]; state: TrainState }> {
  const engine = createEngine(gpu!);
  const g = await buildTrainGraph(engine, model, parseRunConfig({ ...base, ...over }), { load: loaderOf(weights) });
  let state: TrainState | null = null;
  const events = await train(g, { train: data, padId: 0, beforeStep: async (step) => { if (step === AT) state = await snapshotTrainState(g, step); } });
  engine.pool.destroyAll();
  return { events, state: state! };
}

/** A fresh graph (PEFT init from the seed), the state written in, training from step AT. */
async function resumed(over: RunConfigInput, state: TrainState | null): Promise<StepEvent[]> {
  const engine = createEngine(gpu!);
  const g = await buildTrainGraph(engine, model, parseRunConfig({ ...base, ...over }), { load: loaderOf(weights) });
  if (state) restoreTrainState(g, state);
  const events = await train(g, { train: data, padId: 0, startStep: AT });
  engine.pool.destroyAll();
  return events;
}

/** Through the checkpoint store and back (structured clone, as IndexedDB keeps it). */
async function roundTrip(state: TrainState): Promise<TrainState> {
  const store = createCheckpointStore(memoryKv());
  const fp = { model: { name: 'm', hash: 'a' }, dataset: { name: 'd', hash: 'b', train: 10, validation: 0 }, config: { hash: 'c' } };
  await store.save({
    runId: 'run-1', step: state.step, totalSteps: 8, schedule: { kind: 'cosine', nextStep: state.step, nextLr: 0 }, rng: { seed: 11, stateless: true },
    data: dataPosition(state.step, { gradAccumulation: 2, microBatch: 2 }, data.length), optimizer: { kind: 'adamw', moments: state.moments },
    params: state.params, points: { count: state.step, elapsedMs: 0 }, fingerprints: fp,
  });
  const c = (await store.load('run-1'))!;
  return { step: c.step, params: c.params, moments: c.optimizer.moments };
}

describe.skipIf(!gpu)('resume from a checkpoint', () => {
  it('the data position of step 3 with 2 micro-batches per step and 5 per epoch is epoch 1, micro-batch 1', () => {
    expect(dataPosition(AT, { gradAccumulation: 2, microBatch: 2 }, data.length)).toEqual({ epoch: 1, microBatch: 1, microBatchesPerEpoch: 5 });
  });

  it('AdamW: the resumed curve equals the uninterrupted one bitwise from the checkpoint on', async () => {
    const full = await whole({ optimizer: 'adamw' });
    expect(full.events).toHaveLength(8);
    expect(full.state.moments).toHaveLength(2);
    expect(isFiniteState(full.state)).toBe(true);
    const again = await resumed({ optimizer: 'adamw' }, await roundTrip(full.state));
    expect(rows(again)).toEqual(rows(full.events.slice(AT)));
    for (let i = 0; i < again.length; i++) {
      expect(Object.is(again[i].loss, full.events[AT + i].loss), `loss of step ${again[i].step}`).toBe(true);
    }
    // Without the moments (zeros, as a fresh optimizer), the same parameters train differently.
    const noMoments = await resumed({ optimizer: 'adamw' }, { ...full.state, moments: full.state.moments.map((m) => new Float32Array(m.length)) });
    expect(noMoments[1].loss).not.toBe(full.events[AT + 1].loss);
  }, 120_000);

  it('SGD with momentum: the resumed curve equals the uninterrupted one bitwise', async () => {
    const over: RunConfigInput = { optimizer: 'sgd', momentum: 0.9, learningRate: 0.05 };
    const full = await whole(over);
    expect(full.state.moments).toHaveLength(1);
    const again = await resumed(over, await roundTrip(full.state));
    expect(rows(again)).toEqual(rows(full.events.slice(AT)));
    // Without the restored state the resumed run starts from the seed's initial LoRA and differs.
    const fresh = await resumed(over, null);
    expect(fresh[0].loss).not.toBe(full.events[AT].loss);
  }, 120_000);

  it('a snapshot of NaN parameters is recognised as not finite (never saved as a checkpoint)', async () => {
    const engine = createEngine(gpu!);
    const g = await buildTrainGraph(engine, model, parseRunConfig(base), { load: loaderOf(weights) });
    const nan = new Float32Array(g.layout.length);
    nan[7] = NaN;
    writeFlat(engine.gpu.device.queue, g.lora.params, nan);
    expect(isFiniteState(await snapshotTrainState(g, 0))).toBe(false);
    engine.pool.destroyAll();
  });
});
