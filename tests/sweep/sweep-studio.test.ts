/**
 * The studio worker's sweeps in Node, on a tiny model: the plan (runs, trainable parameters, the
 * largest run's memory) of a 2 x 2 sweep over rank and targets; a sweep over targets trained one after another, each run
 * in Runs with its adapter and scored on a task, the results rows (two runs: the machine is shared); a sweep stopped mid-run and
 * continued by a new studio on the same stores (a reload) resumes that run from its checkpoint
 * and trains the rest; a sweep left running by a page that went away is listed as interrupted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { countLoraParams } from '../../src/config/param-count';
import { modulesForTargets, type Target } from '../../src/config/lora-targets';
import { RunConfigError } from '../../src/config/run-config';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { createCheckpointStore } from '../../src/io/stores/checkpoints';
import { memoryKv } from '../../src/io/stores/kv';
import { createRunStore } from '../../src/io/stores/runs';
import { markBest, resultRow } from '../../src/train/sweep/results';
import type { DatasetOptions, StudioApi, TrainEvent } from '../../src/worker/api';
import { createStudio, type StudioDeps } from '../../src/worker/studio';
import type { SweepEvent, SweepRecord } from '../../src/worker/sweep-types';
import { nodeGpu, testGpu } from '../gpu/gpu';
import { alpacaFile, TINY, tinyModelFiles } from '../studio/tiny-model';

const dataOptions: DatasetOptions = { template: 'model', maskPrompt: true, maxSeqLen: 48, validationFraction: 0.2, seed: 1 };
const QV: Target[] = ['query', 'value'];
const ALL: Target[] = ['query', 'key', 'value', 'projection', 'mlp'];
const base = {
  rank: 4, alpha: '2x', targets: QV, maxSteps: 4, microBatch: 4, maxSeqLen: 48, learningRate: 3e-3, schedule: 'constant',
  warmupSteps: 0, evalEvery: 2, logEvery: 1, checkpointEverySteps: 2,
};
const mcTask = new File([[1, 2, 3].map((k) => JSON.stringify({ context: `Add ${k} and 1.`, choices: [` ${k + 1}.`, ` ${k + 7}.`], answer: 0 })).join('\n')], 'add-mc.jsonl');

const stores = () => ({ runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()), checkpoints: createCheckpointStore(memoryKv()), sweeps: memoryKv() });
const available = (await testGpu()) !== null;

async function studioOn(s: ReturnType<typeof stores>): Promise<StudioApi> {
  const deps: StudioDeps = { gpu: () => nodeGpu().then((g) => g ?? undefined), ...s };
  const studio = createStudio(deps);
  await studio.loadModel({ kind: 'files', files: tinyModelFiles() });
  await studio.loadDataset(alpacaFile(), dataOptions);
  return studio;
}

describe.skipIf(!available)('studio sweeps', () => {
  const shared = stores();
  let studio: StudioApi;
  beforeAll(async () => { studio = await studioOn(shared); });

  it('plans every run: trainable parameters as counted, the largest run by memory; refuses bad values naming them', async () => {
    const plan = await studio.planSweep({ base, axes: [['rank', [2, 4]], ['targets', [QV, ALL]]] });
    expect(plan.runs.map((r) => r.label)).toEqual(['rank 2, targets query+value', 'rank 2, targets query+key+value+projection+mlp', 'rank 4, targets query+value', 'rank 4, targets query+key+value+projection+mlp']);
    plan.runs.forEach((r) => expect(r.trainableParams).toBe(countLoraParams(TINY, { r: r.varying.rank as number, targetModules: modulesForTargets(r.varying.targets as Target[]) })));
    expect(plan.largest).toBe(3);
    expect(Math.max(...plan.runs.map((r) => r.memoryBytes))).toBe(plan.runs[3].memoryBytes);
    expect(plan.runs.every((r) => r.steps === 4 && r.problems.length === 0)).toBe(true);
    await expect(studio.planSweep({ base, axes: [['rank', [4, 0]]] })).rejects.toThrow(/"rank": 0 is not a valid value/);
    await expect(studio.planSweep({ base, axes: [] })).rejects.toBeInstanceOf(RunConfigError);
    await expect(studio.planSweep({ base, axes: [['seed', Array.from({ length: 9 }, (_, i) => i)], ['rank', [1, 2, 3, 4, 5, 6, 7, 8]]] })).rejects.toThrow(/72 runs; at most 64/);
  });

  it('a sweep trains each run into Runs with its adapter, scores it on the task, and gives the results rows', async () => {
    const events: SweepEvent<TrainEvent>[] = [];
    const done = await studio.startSweep({ base: { ...base, rank: 2 }, axes: [['targets', [QV, ALL]]], tasks: [{ kind: 'upload', file: mcTask }] }, (e) => events.push(e));
    expect(done.status).toBe('completed');
    expect(done.name).toBe('Sweep 1: targets');
    expect(done.entries.map((e) => e.status)).toEqual(['done', 'done']);
    const runs = await studio.listRuns();
    for (const [i, e] of done.entries.entries()) {
      const run = runs.find((r) => r.id === e.runId)!;
      expect(run.status).toBe('completed');
      expect(run.name).toBe(`Sweep 1: targets · ${i + 1}/2: ${e.label}`);
      expect(run.config.alpha).toBe(2 * run.config.rank);
      expect(run.adapterId).toBe(e.adapterId);
      const o = e.outcome!;
      expect(o.trainableParams).toBe(countLoraParams(TINY, { r: run.config.rank, targetModules: modulesForTargets(run.config.targets) }));
      expect(o.peakMemoryBytes).toBe(run.final!.peakMemory);
      expect(o.finalTrainLoss).toBeCloseTo(run.final!.trainLossMean!, 10);
      expect(o.bestValLoss).toBe(run.final!.bestVal!.loss);
      expect(o.finalValLoss).toBe(run.final!.valLoss);
      expect(o.scores!['add-mc.acc']).toBeGreaterThanOrEqual(0);
      expect(o.scores!['add-mc.acc_norm']).toBeLessThanOrEqual(1);
    }
    expect(events.some((e) => e.type === 'run' && e.index === 1 && e.event.type === 'step')).toBe(true);
    expect(events.some((e) => e.type === 'evaluating' && e.index === 0 && e.task === 'add-mc.jsonl')).toBe(true);
    const rows = done.entries.map((e) => resultRow(e.name, e.varying, e.outcome!));
    markBest(rows);
    expect(Object.keys(rows[0])).toEqual(['run', 'targets', 'trainable_params', 'peak_memory_bytes', 'wall_time_s', 'final_train_loss', 'best_val_loss', 'final_val_loss', 'add-mc.acc', 'add-mc.acc_norm', 'best']);
    expect(rows.filter((r) => r.best)).toHaveLength(1);
    const kept = (await studio.listSweeps())[0];
    expect({ ...kept, tasks: kept.tasks.map((t) => t.name) }).toEqual({ ...done, tasks: ['add-mc.jsonl'] });
  }, 180_000);

  it('stopped mid-run and continued after a reload: that run resumes from its checkpoint, the rest train', async () => {
    const s = stores();
    const first = await studioOn(s);
    const req = { base: { ...base, rank: 2 }, axes: [['seed', [1, 2]]] as [string, number[]][], tasks: [] };
    const stopped = await first.startSweep(req, (e) => {
      if (e.type === 'run' && e.index === 0 && e.event.type === 'step' && e.event.point.step === 3) void first.stopSweep();
    });
    expect(stopped.status).toBe('stopped');
    expect(stopped.entries.map((e) => e.status)).toEqual(['stopped', 'queued']);
    const runId = stopped.entries[0].runId!;
    expect((await s.runs.get(runId))!.status).toBe('stopped');

    const second = await studioOn(s); // a reload: a new worker on the same stores
    expect((await second.listSweeps())[0].status).toBe('stopped');
    const resumed: number[] = [];
    const done = await second.continueSweep(stopped.id, (e) => {
      if (e.type === 'run' && e.index === 0 && e.event.type === 'started' && e.event.resumedFrom) resumed.push(e.event.resumedFrom.step);
    });
    expect(done.status).toBe('completed');
    expect(done.entries[0].runId).toBe(runId); // the same run, continued
    expect(resumed).toHaveLength(1);
    expect((await s.runs.points(runId)).map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(done.entries.every((e) => e.status === 'done' && e.outcome!.finalTrainLoss !== null)).toBe(true);
  }, 180_000);

  it('a sweep left running by a page that went away is listed as interrupted', async () => {
    const s = stores();
    const left: Partial<SweepRecord> = { version: 1, id: 'sweep-x', name: 'left', createdAt: 1, updatedAt: 1, status: 'running', axes: [], tasks: [], model: 'm', dataset: 'd', entries: [] };
    await s.sweeps.set('sweep:sweep-x', left);
    const next = createStudio({ gpu: () => nodeGpu().then((g) => g ?? undefined), ...s });
    expect((await next.listSweeps()).map((x) => x.status)).toEqual(['interrupted']);
  });
});
