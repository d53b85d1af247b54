/**
 * Lion, Adafactor and Sophia keep their state through a checkpoint: a run snapshotted between steps
 * and continued in a fresh graph reports the same losses, bit for bit, as the run that was never
 * interrupted (with dropout, gradient accumulation and, for Sophia, Hessian estimates on both sides
 * of the resume point). Adafactor's factored second moment is shorter than the parameters and is
 * kept in tensor order, whatever chunks the device cut the state into.
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/context';
import { createCheckpointStore } from '../../src/io/stores/checkpoints';
import { memoryKv } from '../../src/io/stores/kv';
import { buildTrainGraph, type BuildOptions } from '../../src/model/graph/train-graph';
import { chainDataset, loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { dataPosition, restoreTrainState, snapshotTrainState, type TrainState } from '../../src/train/checkpoint';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../../src/config/run-config';
import { train, type StepEvent } from '../../src/train/trainer';
import { testGpu } from '../gpu/gpu';

const gpu = await testGpu();
const model = tinyModelConfig();
const weights = tinyWeights(model, 4);
const data = chainDataset(model.vocabSize, 10, 20, 9); // 5 micro-batches of 2 per epoch
const AT = 3;

const base: RunConfigInput = {
  maxSeqLen: 12, maxSteps: 6, microBatch: 2, gradAccumulation: 2, dropout: 0.1, schedule: 'cosine', minLrRatio: 0.1,
  learningRate: 5e-3, targets: ['query', 'value', 'mlp', 'head'], rank: 4, alpha: 8, seed: 11, logEvery: 1,
};

const losses = (events: StepEvent[]) => events.map((e) => e.loss);

async function withGraph<T>(run: RunConfig, opts: BuildOptions, f: (g: Awaited<ReturnType<typeof buildTrainGraph>>) => Promise<T>): Promise<T> {
  const engine = createEngine(gpu!);
  try {
    return await f(await buildTrainGraph(engine, model, run, { load: loaderOf(weights), ...opts }));
  } finally {
    engine.pool.destroyAll();
  }
}

/** The uninterrupted run, with the state snapshotted before step AT. */
function whole(run: RunConfig, opts: BuildOptions = {}): Promise<{ events: StepEvent[]; state: TrainState }> {
  return withGraph(run, opts, async (g) => {
    let state: TrainState | null = null;
    const events = await train(g, { train: data, padId: 0, beforeStep: async (step) => { if (step === AT) state = await snapshotTrainState(g, step); } });
    return { events, state: state! };
  });
}

function resumed(run: RunConfig, state: TrainState, opts: BuildOptions = {}): Promise<StepEvent[]> {
  return withGraph(run, opts, async (g) => {
    restoreTrainState(g, state);
    return train(g, { train: data, padId: 0, startStep: AT });
  });
}

/** Through the checkpoint store and back (structured clone, as IndexedDB keeps it). */
async function roundTrip(run: RunConfig, state: TrainState): Promise<TrainState> {
  const store = createCheckpointStore(memoryKv());
  const fp = { model: { name: 'm', hash: 'a' }, dataset: { name: 'd', hash: 'b', train: 10, validation: 0 }, config: { hash: 'c' } };
  await store.save({
    runId: 'run-1', step: state.step, totalSteps: 6, schedule: { kind: 'cosine', nextStep: state.step, nextLr: 0 }, rng: { seed: 11, stateless: true },
    data: dataPosition(state.step, run, data.length), optimizer: { kind: run.optimizer, moments: state.moments },
    params: state.params, points: { count: state.step, elapsedMs: 0 }, fingerprints: fp,
  });
  const c = (await store.load('run-1'))!;
  return { step: c.step, params: c.params, moments: c.optimizer.moments };
}

const CASES: { name: string; over: RunConfigInput; vectors: number }[] = [
  { name: 'Lion', over: { optimizer: 'lion', learningRate: 1e-3 }, vectors: 1 },
  { name: 'Adafactor with a first moment', over: { optimizer: 'adafactor', learningRate: 1e-2, adafactorBeta1: 0.9 }, vectors: 2 },
  // estimates after steps 2, 4 and 6 (1-based): one before the resume point, two after
  { name: 'Sophia (Hessian every 2 steps)', over: { optimizer: 'sophia', learningRate: 1e-3, sophiaHessianEvery: 2, sophiaRho: 0.5 }, vectors: 2 },
];

describe.skipIf(!gpu)('resuming Lion, Adafactor and Sophia from a checkpoint', () => {
  for (const c of CASES) {
    it(`${c.name}: the resumed curve equals the uninterrupted one bitwise`, async () => {
      const run = parseRunConfig({ ...base, ...c.over });
      const full = await whole(run);
      expect(full.state.moments).toHaveLength(c.vectors);
      const again = await resumed(run, await roundTrip(run, full.state));
      expect(losses(again)).toEqual(losses(full.events.slice(AT)));
      // without the optimizer state (zeros, as a fresh optimizer), the same parameters train differently
      const fresh = await resumed(run, { ...full.state, moments: full.state.moments.map((m) => new Float32Array(m.length)) });
      expect(losses(fresh)).not.toEqual(losses(full.events.slice(AT)));
    }, 120_000);
  }

  it('Adafactor: the factored second moment is rows + cols per tensor, in tensor order across state chunks, and a checkpoint of one optimizer does not load into another', async () => {
    const run = parseRunConfig({ ...base, optimizer: 'adafactor', learningRate: 1e-2 });
    const one = await whole(run);
    // a device whose largest binding is 8 KiB: the LoRA state in chunks, one Adafactor op each
    const small = { maxBindingBytes: 8192 };
    const cut = await whole(run, small);
    const F = one.state.moments[0].length;
    expect(one.state.moments).toHaveLength(1);
    const slots = await withGraph(run, small, async (g) => {
      expect(g.lora.chunks.length).toBeGreaterThan(1);
      return g.layout.slots;
    });
    expect(F).toBe(slots.reduce((n, s) => n + (s.r + s.inFeatures) + (s.outFeatures + s.r), 0));
    const close = (a: number[], b: number[]) => a.every((x, i) => Math.abs(x - b[i]) < 1e-5);
    expect(close(losses(cut.events), losses(one.events))).toBe(true);
    const m0 = one.state.moments[0];
    expect(Array.from(cut.state.moments[0]).every((x, i) => Math.abs(x - m0[i]) <= 1e-3 * Math.abs(m0[i]))).toBe(true);
    // the chunked run's checkpoint resumes on the one-chunk device, and the reverse
    expect(close(losses(await resumed(run, cut.state)), losses(one.events.slice(AT)))).toBe(true);
    expect(close(losses(await resumed(run, one.state, small)), losses(one.events.slice(AT)))).toBe(true);
    await expect(resumed(parseRunConfig({ ...base, optimizer: 'adamw' }), one.state)).rejects.toThrow(/optimizer buffers of .* this run's adamw needs 2/);
  }, 180_000);
});
