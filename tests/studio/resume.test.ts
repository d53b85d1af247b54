/**
 * Resuming interrupted runs through the worker's API in Node: a GPU lost mid-run (the device
 * destroyed as a driver reset would) stops the run with a message that says it can resume, the
 * run is listed as resumable, and `resumeRun` continues it on a new device from its last
 * checkpoint to the end, with the adapter in the library and the same curve as a run that was
 * never interrupted. A page that died mid-run leaves a run that the next studio lists; a
 * checkpoint does not resume onto another dataset.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceLostError } from '../../src/engine/errors';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { createCheckpointStore } from '../../src/io/stores/checkpoints';
import { memoryKv } from '../../src/io/stores/kv';
import { createRunStore } from '../../src/io/stores/runs';
import { isFiniteState } from '../../src/train/checkpoint';
import { RunConfigError } from '../../src/config/run-config';
import type { DatasetOptions, StudioApi, TrainEvent } from '../../src/worker/api';
import { createStudio, type StudioDeps } from '../../src/worker/studio';
import { nodeGpu, testGpu } from '../gpu/gpu';
import { alpacaFile, tinyModelFiles } from './tiny-model';

const dataOptions: DatasetOptions = { template: 'model', maskPrompt: true, maxSeqLen: 48, validationFraction: 0.2, seed: 1 };
const run = {
  rank: 4, alpha: 8, targets: ['query', 'value'], maxSteps: 10, microBatch: 2, gradAccumulation: 2, maxSeqLen: 48, dropout: 0.1,
  schedule: 'cosine', learningRate: 3e-3, evalEvery: 0, logEvery: 1, checkpointEverySteps: 2,
};

const stores = { runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()), checkpoints: createCheckpointStore(memoryKv()) };
const deps: StudioDeps = { gpu: () => nodeGpu().then((g) => g ?? undefined), ...stores };
let studio: StudioApi;
let available = false;

async function loaded(s: StudioApi, data = alpacaFile()): Promise<StudioApi> {
  await s.loadModel({ kind: 'files', files: tinyModelFiles() });
  await s.loadDataset(data, dataOptions);
  return s;
}

beforeAll(async () => {
  available = (await testGpu()) !== null;
  if (available) studio = await loaded(createStudio(deps));
});

describe('resume after a lost GPU', () => {
  it('the run stops with a message, keeps its checkpoint, resumes on a new device and ends like an uninterrupted run', async () => {
    if (!available) return;
    const reference = await studio.startTraining(run, () => {});
    const want = await studio.runPoints(reference.run.id);
    expect(want.map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(await stores.checkpoints.load(reference.run.id)).toBeUndefined(); // a completed run keeps no checkpoint

    const checkpoints: number[] = [];
    const err = await studio.startTraining(run, (e) => {
      if (e.type === 'checkpoint') checkpoints.push(e.step);
      if (e.type === 'step' && e.point.step === 5) void studio.loseDevice();
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceLostError);
    const message = (err as Error).message;
    expect(message).toMatch(/GPU was lost after step \d+ .*its last checkpoint \(step \d+\) is kept: resume the run on a new device/);
    const kept = Number(/checkpoint \(step (\d+)\)/.exec(message)![1]);
    expect(checkpoints).toContain(kept);
    expect(kept).toBeGreaterThanOrEqual(4);

    const [resumable] = await studio.listResumable();
    expect(resumable.run.status).toBe('interrupted');
    expect(resumable.checkpoint.step).toBe(kept);
    const ck = (await stores.checkpoints.load(resumable.run.id))!;
    expect(isFiniteState({ step: ck.step, params: ck.params, moments: ck.optimizer.moments })).toBe(true);
    expect(ck.data).toEqual({ epoch: Math.floor((kept * 2) / 10), microBatch: (kept * 2) % 10, microBatchesPerEpoch: 10 }); // 19 examples in micro-batches of 2

    const events: TrainEvent[] = [];
    const result = await studio.resumeRun(resumable.run.id, (e) => events.push(e));
    const started = events.find((e) => e.type === 'started');
    expect(started?.type === 'started' && started.resumedFrom?.step).toBe(kept);
    expect(started?.type === 'started' && started.resumedFrom?.points.map((p) => p.step)).toEqual(Array.from({ length: kept }, (_, i) => i + 1));
    expect(events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && e.point.step)[0]).toBe(kept + 1);
    expect(result.run.id).toBe(resumable.run.id);
    expect(result.run.status).toBe('completed');
    expect(result.adapter).toBeDefined();
    expect((await studio.listAdapters()).map((a) => a.id)).toContain(result.adapter!.id);

    // One curve, no duplicates, equal to the uninterrupted run's (same seed, same kind of device).
    const got = await studio.runPoints(result.run.id);
    expect(got.map((p) => p.step)).toEqual(want.map((p) => p.step));
    expect(got.map((p) => [p.loss, p.gradNorm, p.lr])).toEqual(want.map((p) => [p.loss, p.gradNorm, p.lr]));
    expect(await studio.listResumable()).toEqual([]);
    expect(await stores.checkpoints.load(result.run.id)).toBeUndefined();
  }, 240_000);
});

describe('resume after the page went away', () => {
  it('a run left live by a dead page is listed as resumable by the next studio; another dataset is refused by name', async () => {
    if (!available) return;
    // A run stopped at step 4 keeps a checkpoint there; make it look like the page died while it was live.
    const stopped = await studio.startTraining(run, (e) => { if (e.type === 'step' && e.point.step === 3) void studio.stop(); });
    expect(stopped.run.status).toBe('stopped');
    const ck = (await stores.checkpoints.info(stopped.run.id))!;
    expect(ck.step).toBe(stopped.run.final!.steps);
    await stores.runs.update(stopped.run.id, { status: 'running' });

    const next = createStudio(deps); // the reloaded page's worker
    const [r] = await next.listResumable();
    expect(r.run.id).toBe(stopped.run.id);
    expect(r.run.status).toBe('interrupted');
    expect(r.checkpoint).toMatchObject({ step: ck.step, totalSteps: 10, dataset: 'tiny.jsonl' });

    await loaded(next, alpacaFile(30, 'other.jsonl'));
    const err = await next.resumeRun(r.run.id, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunConfigError);
    expect((err as RunConfigError).field).toBe('dataset');
    expect((err as Error).message).toMatch(/cannot resume ".*" from step \d+: the checkpoint was trained on the dataset "tiny.jsonl" .* but "other.jsonl" is loaded; load "tiny.jsonl"/);

    await next.discardCheckpoint(r.run.id);
    expect(await next.listResumable()).toEqual([]);
    expect((await next.listRuns()).some((x) => x.id === r.run.id)).toBe(true); // the run itself stays
  }, 240_000);
});
