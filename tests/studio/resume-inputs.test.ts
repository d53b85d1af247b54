/**
 * One-click resume after a reload: a run keeps how its model was loaded (a Hub repo, never the
 * token) and its dataset file (once per content, under a cap), so a new studio with nothing
 * loaded resumes it in one call: the model from the Hub cache without a request, the dataset from
 * its kept copy, then the same curve as an uninterrupted run. A dataset over the cap is not kept
 * and resuming asks for it by name; deleting runs and checkpoints drops their inputs, a dataset
 * only when no other run uses it. The store and the plan are also checked without a GPU.
 */
import type { Fingerprints } from '../../src/config/fingerprints';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeviceLostError } from '../../src/engine/errors';
import { memoryCache } from '../../src/io/model-source/hub/memory-cache';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { createCheckpointStore } from '../../src/io/stores/checkpoints';
import { memoryKv, withStorageErrors } from '../../src/io/stores/kv';
import { createRunInputStore } from '../../src/io/stores/run-inputs';
import { createRunStore } from '../../src/io/stores/runs';
import { StorageFullError } from '../../src/io/stores/storage-errors';
import { RunConfigError } from '../../src/config/run-config';
import type { DatasetOptions, FileProgress, StudioApi, TrainEvent } from '../../src/worker/api';
import { planInputs, type RunInputsStore } from '../../src/worker/run-inputs';
import { createStudio, type StudioDeps } from '../../src/worker/studio';
import { nodeGpu, testGpu } from '../gpu/gpu';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { alpacaFile, tinyModelFiles } from './tiny-model';

const dataOptions: DatasetOptions = { template: 'model', maskPrompt: true, maxSeqLen: 48, validationFraction: 0.2, seed: 1 };
const run = {
  rank: 4, alpha: 8, targets: ['query', 'value'], maxSteps: 10, microBatch: 2, gradAccumulation: 2, maxSeqLen: 48, dropout: 0.1,
  schedule: 'cosine', learningRate: 3e-3, evalEvery: 0, logEvery: 1, checkpointEverySteps: 2,
};
const REPO = 'org/gated-tiny';
const TOKEN = 'hf_secret_token';

let hub: HubServer;
let available = false;
const hubCache = memoryCache(); // the browser's OPFS cache: it outlives the page

beforeAll(async () => {
  const files = Object.fromEntries(await Promise.all(tinyModelFiles().map(async (f) => [f.name, new Uint8Array(await f.arrayBuffer())] as const)));
  hub = await startHubServer({ [REPO]: { files, token: TOKEN } });
  available = (await testGpu()) !== null;
});
afterAll(() => hub?.close());

/** Stores as IndexedDB keeps them across a reload. */
function storesFor(runInputs: RunInputsStore = createRunInputStore<DatasetOptions>(memoryKv())) {
  return { runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()), checkpoints: createCheckpointStore(memoryKv()), runInputs };
}
const depsOf = (stores: ReturnType<typeof storesFor>): StudioDeps => ({ gpu: () => nodeGpu().then((g) => g ?? undefined), hubCache, ...stores });

async function loaded(s: StudioApi): Promise<StudioApi> {
  await s.loadModel({ kind: 'hub', repo: REPO, endpoint: hub.url, token: TOKEN });
  await s.loadDataset(alpacaFile(), dataOptions);
  return s;
}

/** Make a run that stopped look like one whose page died while it trained. */
const interrupt = (stores: ReturnType<typeof storesFor>, id: string) => stores.runs.update(id, { status: 'running' });

describe('one-click resume after a reload', () => {
  it('a new studio with nothing loaded resumes from the Hub cache and the kept dataset, with no request and the same curve', async () => {
    if (!available) return;
    const stores = storesFor();
    const first = await loaded(createStudio(depsOf(stores)));
    const reference = await first.startTraining(run, () => {});
    const want = await first.runPoints(reference.run.id);
    expect(await stores.runInputs.get(reference.run.id)).toBeUndefined(); // completed: nothing left to resume
    expect(await stores.runInputs.items.list()).toEqual([]);

    const err = await first.startTraining(run, (e) => { if (e.type === 'step' && e.point.step === 5) void first.loseDevice(); }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceLostError);
    const [lost] = await first.listRuns();
    const kept = (await stores.runInputs.get(lost.id))!;
    expect(kept.model).toEqual({ name: REPO, source: { kind: 'hub', repo: REPO, endpoint: hub.url, withToken: true } });
    expect(kept.dataset).toMatchObject({ name: 'tiny.jsonl', options: dataOptions, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.stringify(kept)).not.toContain(TOKEN);

    hub.reset();
    const next = createStudio(depsOf(stores)); // the reloaded page: nothing loaded
    const [r] = await next.listResumable();
    expect(r.run.id).toBe(lost.id);
    expect(r.inputs).toEqual({ loads: [`${REPO} from this browser's cache`, 'tiny.jsonl'], needs: [] });

    const events: TrainEvent[] = [];
    const result = await next.resumeRun(r.run.id, (e) => events.push(e));
    expect(hub.requests).toEqual([]); // the gated repo came from the cache, without its token
    expect(events.some((e) => e.type === 'phase' && e.phase === 'preparing' && /Loading model\.safetensors from this browser's storage/.test(e.message))).toBe(true);
    expect(events.find((e) => e.type === 'started')).toMatchObject({ resumedFrom: { step: r.checkpoint.step } });
    expect(result.run.status).toBe('completed');
    const got = await next.runPoints(result.run.id);
    expect(got.map((p) => [p.step, p.loss, p.gradNorm, p.lr])).toEqual(want.map((p) => [p.step, p.loss, p.gradNorm, p.lr]));
    // The run is done: its inputs go, and the dataset with them.
    expect(await stores.runInputs.get(r.run.id)).toBeUndefined();
    expect(await stores.runInputs.items.list()).toEqual([]);
  }, 300_000);

  it('a dataset over the cap is not kept: the run warns, and resuming loads the model and asks for the file by name', async () => {
    if (!available) return;
    const stores = storesFor(createRunInputStore<DatasetOptions>(memoryKv(), { maxDatasetBytes: 100 }));
    const first = await loaded(createStudio(depsOf(stores)));
    const events: TrainEvent[] = [];
    const stopped = await first.startTraining({ ...run, maxSteps: 4 }, (e) => {
      events.push(e);
      if (e.type === 'step' && e.point.step === 2) void first.stop();
    });
    expect(events).toContainEqual({ type: 'warning', message: expect.stringMatching(/^"tiny\.jsonl" \([\d.]+ KiB\) is above the 0\.1 KiB this studio keeps for resuming, so resuming this run after a reload will ask for the file again$/) });
    expect(await stores.runInputs.items.list()).toEqual([]);
    await interrupt(stores, stopped.run.id);

    const next = createStudio(depsOf(stores));
    const [r] = await next.listResumable();
    expect(r.inputs.loads).toEqual([`${REPO} from this browser's cache`]);
    expect(r.inputs.needs).toEqual([expect.stringMatching(/^"tiny\.jsonl" .* is above .*: load it again in Model & data with the run's options/)]);
    const err = await next.resumeRun(r.run.id, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunConfigError);
    expect((err as RunConfigError).field).toBe('dataset');
    expect((err as Error).message).toMatch(/^cannot resume ".*" from step 2: "tiny\.jsonl" .* is above the 0\.1 KiB this studio keeps for resuming: load it again in Model & data with the run's options .*; then resume$/);

    // The model came back by itself; the person loads the file, and the run resumes.
    const progress: FileProgress[] = [];
    expect(await next.loadRunInputs(r.run.id, (p) => progress.push(p))).toMatchObject({ model: { name: REPO }, dataset: null, needs: [expect.stringContaining('tiny.jsonl')] });
    expect(progress).toEqual([]); // the model was loaded already
    await next.loadDataset(alpacaFile(), dataOptions);
    expect((await next.listResumable())[0].inputs).toEqual({ loads: [], needs: [] });
    const result = await next.resumeRun(r.run.id, () => {});
    expect(result.run.status).toBe('completed');
    expect(result.run.final?.steps).toBe(4);
  }, 300_000);

  it('deleting a run or its checkpoint deletes its inputs, and a dataset only when no other run uses it', async () => {
    if (!available) return;
    const stores = storesFor();
    const studio = await loaded(createStudio(depsOf(stores)));
    const stopAt1 = () => studio.startTraining({ ...run, maxSteps: 4 }, (e) => { if (e.type === 'step' && e.point.step === 1) void studio.stop(); });
    const a = (await stopAt1()).run.id;
    const b = (await stopAt1()).run.id;
    const [ka, kb] = [(await stores.runInputs.get(a))!, (await stores.runInputs.get(b))!];
    expect(ka.dataset.hash).toBe(kb.dataset.hash);
    const items = await stores.runInputs.items.list();
    expect(items).toEqual([{ id: ka.dataset.hash, name: 'tiny.jsonl (dataset kept to resume 2 runs)', bytes: alpacaFile().size }]);

    await studio.deleteRun(a);
    expect(await stores.runInputs.get(a)).toBeUndefined();
    expect(await stores.runInputs.items.list()).toEqual([{ ...items[0], name: 'tiny.jsonl (dataset kept to resume 1 run)' }]);
    expect(await stores.runInputs.dataset(kb)).not.toBeNull();

    await studio.discardCheckpoint(b);
    expect(await stores.runInputs.get(b)).toBeUndefined();
    expect(await stores.runInputs.items.list()).toEqual([]);
  }, 300_000);
});

describe('the run-inputs store and the resume plan (no GPU)', () => {
  const file = (text: string, name = 'train.jsonl') => new File([text], name);
  const model = { name: 'org/m', source: { kind: 'hub' as const, repo: 'org/m', withToken: false } };

  it('keeps one copy per content, gives it back with its name, and refuses what is over the cap', async () => {
    const store = createRunInputStore<DatasetOptions>(memoryKv(), { maxDatasetBytes: 10 });
    const one = await store.save({ runId: 'run-1', runName: 'a', model, file: file('{"x":1}\n'), fileName: 'train.jsonl', options: dataOptions });
    const two = await store.save({ runId: 'run-2', runName: 'b', model, file: file('{"x":1}\n', 'copy.jsonl'), fileName: 'copy.jsonl', options: dataOptions });
    expect(two.dataset.hash).toBe(one.dataset.hash);
    expect((await store.items.list()).length).toBe(1);
    const back = (await store.dataset(two))!;
    expect([back.name, await back.text()]).toEqual(['copy.jsonl', '{"x":1}\n']);
    const big = await store.save({ runId: 'run-3', runName: 'c', model, file: file('x'.repeat(11)), fileName: 'big.jsonl', options: dataOptions });
    expect(big.dataset).toMatchObject({ hash: null, notKept: '"big.jsonl" (0.0 KiB) is above the 0.0 KiB this studio keeps for resuming' });
    expect(await store.dataset(big)).toBeNull();
    // Removing the dataset item (Storage tab) drops the copy; its runs then ask for the file.
    await store.items.remove(one.dataset.hash!);
    expect(await store.dataset(one)).toBeNull();
    await store.items.remove('run-1');
    expect(await store.get('run-1')).toBeUndefined();
    expect(await store.get('run-2')).toBeDefined();
  });

  it('a full disk keeps the record without the file and reports the StorageFullError', async () => {
    const store = createRunInputStore<DatasetOptions>(withQuota(2_000));
    const err = await store.save({ runId: 'run-1', runName: 'a', model, file: file('y'.repeat(5_000)), fileName: 'train.jsonl', options: dataOptions }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as Error).message).toMatch(/cannot save the dataset kept for resuming .*storage is full/);
    expect((await store.get('run-1'))?.dataset).toMatchObject({ hash: null, notKept: expect.stringMatching(/no room to keep "train\.jsonl"/) });
  });

  it('names what only the person can load: picked files, a gated repo no longer cached, a run with nothing kept', async () => {
    const store = createRunInputStore<DatasetOptions>(memoryKv());
    const saved: Fingerprints = { model: { name: 'org/m', hash: 'a' }, dataset: { name: 'train.jsonl', hash: 'b', train: 1, validation: 0 }, config: { hash: 'c' } };
    const plan = async (source: Parameters<typeof store.save>[0]['model']['source'] | null) => {
      if (source) await store.save({ runId: 'run-1', runName: 'a', model: { name: 'org/m', source }, file: file('{"x":1}\n'), fileName: 'train.jsonl', options: dataOptions });
      return (await planInputs({ saved, stored: source ? await store.get('run-1') : undefined, store, hubCache: memoryCache(), model: null, dataset: null })).inputs;
    };
    expect(await plan({ kind: 'files', names: ['config.json', 'model.safetensors'] })).toEqual({
      loads: ['train.jsonl'],
      needs: ['pick the files of the model "org/m" again in Model & data (config.json, model.safetensors): they came from your disk, which this page cannot open by itself'],
    });
    expect((await plan({ kind: 'hub', repo: 'org/m', withToken: true })).needs).toEqual([expect.stringMatching(/^load "org\/m" in Model & data with your access token \(the repo is gated or private, and no longer in this browser's cache\)$/)]);
    expect((await plan({ kind: 'hub', repo: 'org/m', withToken: false })).loads).toEqual(['org/m from the Hub (it is no longer in this browser\'s cache)', 'train.jsonl']);
    expect(await plan({ kind: 'demo' })).toEqual({ loads: ['the demo model', 'train.jsonl'], needs: [] });
    await store.forget('run-1');
    expect(await plan(null)).toEqual({ loads: [], needs: ['load the model "org/m" in Model & data', expect.stringMatching(/^load the dataset "train\.jsonl" in Model & data with the run's options/)] });
  });
});

/** memoryKv with a simulated quota, wrapped as idbKv wraps IndexedDB (quota errors become StorageFullError). */
const withQuota = (bytes: number) => withStorageErrors(memoryKv({ quotaBytes: bytes }), 'the dataset kept for resuming');
