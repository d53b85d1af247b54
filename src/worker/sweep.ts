/**
 * Sweeps in the worker: a base run config and its axes expanded into runs (src/train/sweep/grid.ts,
 * shared with the CLI), queued and trained one after another through the studio's single-run path
 * (./studio-runs.ts: the training lock, checkpoints, the run in Runs, its adapter in the library),
 * each adapter (a full finetuning run's model) then scored on the chosen tasks (./evaluation.ts). The queue and every finished
 * run's figures are kept in the sweep's record (./sweep-store.ts) after each change, so a reload
 * loses at most the run in progress, and that one continues from its last checkpoint.
 */
import type { Fingerprints } from '../config/fingerprints';
import { parseRunConfig, RunConfigError } from '../config/run-config';
import { DeviceLostError } from '../engine/errors';
import { axesWords, describeVarying, expandAxes, SweepGridError } from '../train/sweep/grid';
import { taskScores, type SweepOutcome } from '../train/sweep/results';
import type { RunRecord, TrainEvent, TrainResult } from './api';
import { EvaluationSession } from './evaluation';
import type { EvalTaskSource } from './evaluation-types';
import { runsApi } from './studio-runs';
import type { StudioState } from './studio-state';
import { createSweepStore, type SweepStore } from './sweep-store';
import { MAX_SWEEP_RUNS, type SweepCalls, type SweepEntry, type SweepEvent, type SweepPlan, type SweepRecord, type SweepRequest } from './sweep-types';
import { TrainingElsewhereError } from './tab-lock';
import { fingerprintsOf } from './training-run';

type Emit = (e: SweepEvent<TrainEvent>) => void;
type Inputs = Pick<Fingerprints, 'model' | 'dataset'>;
type Update = (change: (r: StoredSweep) => StoredSweep) => Promise<void>;

/** Kept with the record: what the sweep trains on, checked before a run starts after a reload. */
interface StoredSweep extends SweepRecord {
  inputs?: Inputs;
}

/** The sweep's runs, each config checked whole; errors name the field or the run. */
function expand(req: Pick<SweepRequest, 'base' | 'axes'>) {
  if (!Array.isArray(req.axes) || req.axes.length === 0) throw new RunConfigError('choose at least one field to vary (a sweep of one run is a plain run: press Train)', 'sweep');
  const count = req.axes.reduce((n, [, v]) => n * (Array.isArray(v) ? v.length : 0), 1);
  if (count > MAX_SWEEP_RUNS) throw new RunConfigError(`this sweep is ${count} runs; at most ${MAX_SWEEP_RUNS} run in one sweep: try fewer values, or split it into several sweeps`, 'sweep');
  try {
    return expandAxes(req.base, req.axes).map((r) => ({ ...r, config: parseRunConfig(r.config) }));
  } catch (e) {
    throw e instanceof SweepGridError ? new RunConfigError(e.message, 'sweep') : e;
  }
}

/** A task's name in the table (the column prefix): its file's name, or "validation". */
const taskName = (t: EvalTaskSource) => (t.kind === 'validation' ? 'validation' : t.kind === 'bundled' ? t.file : t.file.name);

export class SweepSession {
  private readonly store: SweepStore;
  private readonly evaluation: EvaluationSession;
  private active: { id: string; stop: boolean } | null = null;
  private readonly ready: Promise<void>;

  constructor(private readonly s: StudioState, store?: SweepStore) {
    this.store = store ?? createSweepStore();
    this.evaluation = new EvaluationSession(s);
    // This worker is new: a sweep still `running` was left by a page that went away.
    this.ready = s.ready.then(() => this.store.markInterrupted()).catch(() => undefined);
  }

  async plan(req: Pick<SweepRequest, 'base' | 'axes'>): Promise<SweepPlan> {
    const m = this.s.loaded.needModel('planning a sweep');
    const runs = expand(req);
    const gpu = await this.s.gpu.get();
    const out: SweepPlan = { runs: [], largest: 0 };
    for (const r of runs) {
      const e = await this.s.estimator.estimate(m.config, this.s.loaded.modelKey, r.config, this.s.loaded.dataset?.train ?? null, gpu);
      out.runs.push({ label: describeVarying(r.varying), varying: r.varying, trainableParams: e.trainableParams, memoryBytes: e.memory.total, steps: e.steps, problems: e.problems });
    }
    out.largest = out.runs.reduce((best, r, i) => (r.memoryBytes > out.runs[best].memoryBytes ? i : best), 0);
    return out;
  }

  async start(req: SweepRequest, emit: Emit): Promise<SweepRecord> {
    await this.ready;
    this.refuseBusy();
    const m = this.s.loaded.needModel('a sweep');
    const d = this.s.loaded.needData('a sweep');
    const runs = expand(req);
    // Every run must fit before the first starts: a sweep that fails at its tenth run wastes the first nine.
    const plan = await this.plan(req);
    const unfit = plan.runs.findIndex((r) => r.problems.length > 0);
    if (unfit >= 0) throw new RunConfigError(`run ${unfit + 1} of the sweep (${plan.runs[unfit].label}) does not fit: ${plan.runs[unfit].problems.join(' ')}`, 'sweep');
    const inputs = await fingerprintsOf(runs[0].config, m, d);
    const n = (await this.store.list()).length + 1;
    const record = await this.store.create({
      name: req.name?.trim() || `Sweep ${n}: ${axesWords(req.axes.map(([f]) => f))}`, status: 'running', axes: req.axes,
      tasks: (req.tasks ?? []).map((source) => ({ source, name: taskName(source) })),
      model: m.info.name, dataset: d.name,
      entries: runs.map((r): SweepEntry => ({ name: r.name, label: describeVarying(r.varying), config: r.config, varying: r.varying, status: 'queued' })),
    });
    const stored: StoredSweep = { ...record, inputs: { model: inputs.model, dataset: inputs.dataset } };
    return this.drive(await this.store.save(stored), emit);
  }

  async continue(id: string, emit: Emit): Promise<SweepRecord> {
    await this.ready;
    this.refuseBusy();
    const record = await this.store.get(id);
    if (!record) throw new Error(`sweep ${id} is not kept in this browser (deleted?)`);
    if (record.status === 'completed') throw new Error(`"${record.name}" has finished every run`);
    return this.drive({ ...record, status: 'running', error: undefined }, emit);
  }

  stop(): void {
    if (!this.active) return;
    this.active.stop = true;
    this.s.training.stop();
  }

  async list(): Promise<SweepRecord[]> {
    await this.ready;
    return (await this.store.list()).map(publicRecord);
  }

  async delete(id: string): Promise<void> {
    if (this.active?.id === id) throw new Error('this sweep is running; stop it before deleting it');
    await this.store.delete(id);
  }

  private refuseBusy(): void {
    if (this.active) throw new Error('a sweep is running in this tab; stop it before starting another');
    if (this.s.training.busy) throw new Error('a run is training; start the sweep once it has ended');
  }

  /** Train and score every unfinished run in order; the record is saved (and sent) after each change. */
  private async drive(start: StoredSweep, emit: Emit): Promise<SweepRecord> {
    let record = start;
    const active = { id: record.id, stop: false };
    this.active = active;
    // Changes are applied one after another to the latest record (a run's id may arrive mid-step).
    let chain: Promise<unknown> = Promise.resolve();
    const update: Update = (change) => {
      const next = chain.then(async () => {
        record = await this.store.save(change(record));
        emit({ type: 'sweep', sweep: publicRecord(record) });
      });
      chain = next.catch(() => undefined);
      return next;
    };
    try {
      await update((r) => r);
      for (let i = 0; i < record.entries.length; i++) {
        if (record.entries[i].status === 'done') continue;
        if (active.stop) break;
        if ((await this.trainEntry(record, i, update, emit)) === 'stopped') break;
      }
      const left = record.entries.some((e) => e.status !== 'done' && e.status !== 'failed');
      await update((r) => ({ ...r, status: left ? 'stopped' : 'completed' }));
      return publicRecord(record);
    } catch (e) {
      await update((r) => ({ ...r, status: 'interrupted', error: (e as Error).message })).catch(() => undefined);
      throw e;
    } finally {
      this.active = null;
    }
  }

  /**
   * One run of the sweep: a finished run is taken as it is, a stopped or interrupted one continues
   * from its checkpoint, anything else starts afresh; then its adapter is scored on the tasks.
   * Throws (the sweep waits to be continued) when the person must act first: load the sweep's
   * model or data, a lost GPU, another tab training; any other failure fails this run only.
   */
  private async trainEntry(record: StoredSweep, i: number, update: Update, emit: Emit): Promise<'done' | 'failed' | 'stopped'> {
    const entry = record.entries[i];
    const setEntry = (patch: Partial<SweepEntry>) => update((r) => ({ ...r, entries: r.entries.map((e, k) => (k === i ? { ...e, ...patch } : e)) }));
    const runs = runsApi(this.s);
    const onEvent = (event: TrainEvent) => {
      // The run's id is kept as soon as it exists: after a reload the sweep continues that run.
      if (event.type === 'started' && !event.resumedFrom) void setEntry({ runId: event.run.id }).catch(() => undefined);
      // A stop asked for while the run was still preparing takes effect once it trains.
      if (this.active?.stop) this.s.training.stop();
      emit({ type: 'run', index: i, event });
    };
    const prior = entry.runId ? await this.s.runs.get(entry.runId) : undefined;
    let result: TrainResult;
    if (prior?.status === 'completed' && (prior.adapterId || prior.fullModelId)) {
      result = {
        run: prior,
        ...(prior.adapterId ? { adapter: await this.s.adapters.meta(prior.adapterId) } : {}),
        ...(prior.fullModelId ? { fullModel: await this.s.fullModels.meta(prior.fullModelId) } : {}),
      };
    } else if (prior && (await this.s.checkpoints.info(prior.id))) {
      await setEntry({ status: 'training', error: undefined });
      result = await runs.resumeRun(prior.id, onEvent); // its errors (what to load, a lost GPU) wait for the person
    } else {
      await this.checkInputs(record);
      await setEntry({ status: 'training', error: undefined });
      try {
        result = await runs.startTraining(entry.config, onEvent, { name: `${record.name} · ${i + 1}/${record.entries.length}: ${entry.label}` });
      } catch (e) {
        await setEntry({ status: e instanceof DeviceLostError || e instanceof TrainingElsewhereError ? 'stopped' : 'failed', error: (e as Error).message });
        if (e instanceof DeviceLostError || e instanceof TrainingElsewhereError) throw e;
        return 'failed';
      }
    }
    if (result.run.status === 'stopped') {
      await setEntry({ status: 'stopped', runId: result.run.id });
      return 'stopped';
    }
    const scores = await this.score(record, result, (e) => emit({ ...e, index: i }), setEntry);
    await setEntry({
      status: 'done', runId: result.run.id, ...(result.adapter ? { adapterId: result.adapter.id } : {}), ...(result.fullModel ? { fullModelId: result.fullModel.id } : {}),
      outcome: outcomeOf(result.run, result.adapter ?? result.fullModel, scores),
    });
    return 'done';
  }

  /** The run's adapter (or full model) on every task of the sweep; a task that fails is named in the entry, the sweep goes on. */
  private async score(
    record: StoredSweep, { adapter, fullModel }: Pick<TrainResult, 'adapter' | 'fullModel'>, emit: (e: Omit<Extract<SweepEvent<TrainEvent>, { type: 'evaluating' }>, 'index'>) => void,
    setEntry: (patch: Partial<SweepEntry>) => Promise<void>,
  ): Promise<Record<string, number>> {
    const scores: Record<string, number> = {};
    if ((!adapter && !fullModel) || record.tasks.length === 0) return scores;
    await setEntry({ status: 'evaluating' });
    const errors: string[] = [];
    for (const t of record.tasks) {
      emit({ type: 'evaluating', task: t.name });
      try {
        const report = await this.evaluation.evaluate({ task: t.source, base: false, adapterId: adapter?.id ?? null, fullModelId: fullModel?.id ?? null }, (progress) => emit({ type: 'evaluating', task: t.name, progress }));
        Object.assign(scores, taskScores(t.name, report.scores[0] ?? {}));
      } catch (e) {
        errors.push(`${t.name}: ${(e as Error).message}`);
      }
    }
    if (errors.length) await setEntry({ error: `scoring failed on ${errors.join('; ')}` });
    return scores;
  }

  /** A run that starts afresh after a reload must train on what the sweep trained on. */
  private async checkInputs(record: StoredSweep): Promise<void> {
    const saved = record.inputs;
    if (!saved) return;
    const m = this.s.loaded.needModel(`continuing "${record.name}" (load ${record.model})`);
    const d = this.s.loaded.needData(`continuing "${record.name}" (load ${record.dataset})`);
    const now = await fingerprintsOf(record.entries[0].config, m, d);
    if (now.model.hash !== saved.model.hash) {
      throw new RunConfigError(`"${record.name}" trains on the model "${saved.model.name}" but "${now.model.name}" is loaded; load "${saved.model.name}" in Model & data, then continue the sweep`, 'model');
    }
    if (now.dataset.hash !== saved.dataset.hash) {
      throw new RunConfigError(`"${record.name}" trains on the dataset "${saved.dataset.name}" (${saved.dataset.train} training + ${saved.dataset.validation} validation examples) as it was loaded then; load it with the same options, then continue the sweep`, 'dataset');
    }
  }
}

/** The record as the page gets it (without the fingerprints kept for checks). */
function publicRecord(r: StoredSweep): SweepRecord {
  const { inputs: _inputs, ...rest } = r;
  return rest;
}

/** What a finished run came to, from its record (the figures Runs shows) and its adapter or full model (trainable parameters). */
export function outcomeOf(run: RunRecord, kept: { trainableParams: number } | undefined, scores: Record<string, number>): SweepOutcome {
  const f = run.final;
  return {
    trainableParams: kept?.trainableParams ?? 0, peakMemoryBytes: f?.peakMemory ?? 0, wallTimeS: (f?.wallMs ?? 0) / 1000,
    finalTrainLoss: f?.trainLossMean ?? f?.trainLoss ?? null, bestValLoss: f?.bestVal?.loss ?? null, finalValLoss: f?.valLoss ?? null, scores,
  };
}

/** The StudioApi's sweep calls: one session per studio (one sweep at a time). */
export function sweepApi(s: StudioState, store?: SweepStore): SweepCalls<TrainEvent> {
  const session = new SweepSession(s, store);
  return {
    planSweep: (req) => session.plan(req),
    startSweep: (req, onEvent) => session.start(req, onEvent),
    continueSweep: (id, onEvent) => session.continue(id, onEvent),
    stopSweep: async () => session.stop(),
    listSweeps: () => session.list(),
    deleteSweep: (id) => session.delete(id),
  };
}
