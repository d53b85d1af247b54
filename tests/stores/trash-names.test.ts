/** Runs and adapters: numbered default names, rename and notes, delete with undo (the trash), figures kept while a run trains. */
import { describe, expect, it } from 'vitest';
import { memoryKv } from '../../src/io/stores/kv';
import { createRunStore, type NewRun, type StepPoint } from '../../src/io/stores/runs';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { kvItems } from '../../src/io/stores/usage';
import { createCheckpointStore } from '../../src/io/stores/checkpoints';
import { createRunInputStore } from '../../src/io/stores/run-inputs';
import { parseRunConfig } from '../../src/config/run-config';
import { CurveSummary } from '../../src/worker/run-recorder';
import { editRun, emptyTrash } from '../../src/worker/trash';
import type { DatasetOptions } from '../../src/worker/api';

const run: NewRun = {
  name: 'r8', config: parseRunConfig({}), model: { name: 'm', source: 'demo', params: 10 },
  dataset: { name: 'd', examples: 4, validation: 1, tokensPerEpoch: 100 }, totalSteps: 20,
};
const lora = { r: 4, alpha: 8, dropout: 0, useRslora: false, targetModules: ['q_proj' as const], rankPattern: {}, alphaPattern: {} };
const point = (step: number, loss: number, evalLoss?: number): StepPoint => ({
  step, epoch: 0, loss, lr: 1e-3, gradNorm: 1, clipCoef: 1, tokensPerSecond: 1, elapsedMs: step, memory: {} as never, memoryTotal: 0, memoryPeak: 0,
  ...(evalLoss !== undefined ? { evalLoss } : {}),
});

describe('run names and numbers', () => {
  it('runs are numbered in order, after every run kept and after deleted ones; the number names them', async () => {
    const kv = memoryKv();
    const store = createRunStore(kv);
    const a = await store.create(run, (n) => `Run ${n} · r8`);
    const b = await store.create(run, (n) => `Run ${n} · r8`);
    expect([a.name, b.name]).toEqual(['Run 1 · r8', 'Run 2 · r8']);
    await store.delete(b.id);
    expect((await store.create(run, (n) => `Run ${n}`)).name).toBe('Run 3');
    expect((await store.create(run)).name).toBe('r8'); // a given name stays
    // The counter is bookkeeping, not an item the Storage tab lists.
    expect((await kvItems(kv).list()).map((i) => i.id)).not.toContain('seq');
  });
});

describe('delete with undo', () => {
  it('a trashed run leaves the list until restored; emptying the trash deletes it with its checkpoint', async () => {
    const s = { runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()), checkpoints: createCheckpointStore(memoryKv()), runInputs: createRunInputStore<DatasetOptions>(memoryKv()), generation: { forget: () => {} } };
    const r = await s.runs.create(run);
    await s.runs.trash(r.id);
    expect(await s.runs.list()).toEqual([]);
    expect((await s.runs.trashed()).map((x) => x.id)).toEqual([r.id]);
    await s.runs.restore(r.id);
    expect((await s.runs.list()).map((x) => x.id)).toEqual([r.id]);
    const a = await s.adapters.save({ name: 'a', baseModel: 'm', lora, trainableParams: 1, origin: 'trained' }, { weights: new Uint8Array(4), configJson: '{}' });
    await s.runs.trash(r.id);
    await s.adapters.trash(a.id);
    expect(await s.adapters.list()).toEqual([]);
    await emptyTrash(s, 60_000); // too recent: another tab may still undo it
    expect(await s.runs.trashed()).toHaveLength(1);
    await emptyTrash(s);
    expect(await s.runs.get(r.id)).toBeUndefined();
    expect(await s.adapters.meta(a.id)).toBeUndefined();
  });
});

describe('rename and notes', () => {
  it('an adapter gets a name and a note; an empty name is refused', async () => {
    const store = createAdapterStore(memoryKv());
    const a = await store.save({ name: 'a', baseModel: 'm', lora, trainableParams: 1, origin: 'trained' }, { weights: new Uint8Array(4), configJson: '{}' });
    expect(await store.edit(a.id, { name: ' better ', note: 'for the demo' })).toMatchObject({ name: 'better', note: 'for the demo' });
    expect((await store.edit(a.id, { note: '' })).note).toBeUndefined();
    await expect(store.edit(a.id, { name: '  ' })).rejects.toThrow(/needs a name/);
  });

  it('renaming a run renames its adapter while that still carries the run\'s name', async () => {
    const s = { runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()) };
    const r = await s.runs.create({ ...run, name: 'Run 1 · r8' });
    const a = await s.adapters.save({ name: 'Run 1 · r8 (step 7)', baseModel: 'm', lora, trainableParams: 1, origin: 'trained' }, { weights: new Uint8Array(4), configJson: '{}' });
    await s.runs.update(r.id, { adapterId: a.id });
    expect(await editRun(s, r.id, { name: 'short test', note: 'lr too high' })).toMatchObject({ name: 'short test', note: 'lr too high' });
    expect((await s.adapters.meta(a.id))!.name).toBe('short test (step 7)');
  });
});

describe('what a run came to, kept as it trains', () => {
  it('the mean of the last 10 training losses and the best validation loss with its step', () => {
    const s = new CurveSummary();
    for (let i = 1; i <= 30; i++) s.add(point(i, i <= 20 ? 10 : i - 20, i % 10 === 0 ? 50 - i : undefined));
    expect(s.trainLossMean).toBe(5.5);
    expect(s.bestVal).toEqual({ loss: 20, step: 30 });
    expect(s.lastVal).toBe(20);
  });

  it('points and the figures land together', async () => {
    const store = createRunStore(memoryKv());
    const r = await store.create(run);
    await store.appendPoints(r.id, [point(1, 3)], { final: { trainLoss: 3, trainLossMean: 3, peakMemory: 0, wallMs: 1, steps: 1 } });
    expect((await store.get(r.id))!).toMatchObject({ pointCount: 1, final: { trainLossMean: 3, steps: 1 } });
  });
});
