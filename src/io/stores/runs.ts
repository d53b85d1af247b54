/**
 * Every training run the studio has started: its config, model and dataset, status, timing, final
 * metrics and adapter (or full model) id (`run:<id>`), and its curves as append-only chunks of points
 * (`points:<id>:<n>`), so a run can be saved every few seconds without rewriting its history and
 * a listing never loads the curves.
 */
import type { Category } from '../../core/memory-categories';
import type { RunConfig } from '../../config/run-config';
import { idbKv, newId, type Kv } from './kv';

/** One logged optimizer step: what the dashboard draws and what runs are compared on. */
export interface StepPoint {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  gradNorm: number;
  clipCoef: number;
  /** Tokens processed per second: every input token of the step (padding excluded). */
  tokensPerSecond: number;
  /** Tokens per second that count in the loss (absent in runs recorded before it was measured). */
  lossTokensPerSecond?: number;
  /** Training wall time since the run started, ms (pauses excluded). */
  elapsedMs: number;
  evalLoss?: number;
  /** GPU memory in use by category, bytes (the pool's ledger). */
  memory: Record<Category, number>;
  memoryTotal: number;
  memoryPeak: number;
}

/** `interrupted`: the page went away while the run was live (a reload, a crash); see issue 7 for resuming. */
export type RunStatus = 'running' | 'paused' | 'completed' | 'stopped' | 'failed' | 'interrupted';

/** What a run came to so far: kept current while it trains (every save), final once it ends. */
export interface RunFinal {
  /** The last step's training loss (raw, one batch). */
  trainLoss: number;
  /** Mean of the last 10 training losses (steadier than one batch). */
  trainLossMean?: number;
  /** The last validation loss. */
  valLoss?: number;
  /** The lowest validation loss and the step it was measured after. */
  bestVal?: { loss: number; step: number };
  peakMemory: number;
  wallMs: number;
  steps: number;
}

export interface RunRecord {
  version: 1;
  id: string;
  name: string;
  /** The person's note about the run. */
  note?: string;
  /** Runs numbered in the order they were started in this browser (1, 2, ...): part of the default name. */
  seq?: number;
  createdAt: number;
  updatedAt: number;
  status: RunStatus;
  config: RunConfig;
  model: { name: string; source: string; params: number };
  dataset: { name: string; examples: number; validation: number; tokensPerEpoch: number };
  totalSteps: number;
  /** Points saved so far (the curves' length). */
  pointCount: number;
  final?: RunFinal;
  adapterId?: string;
  /** A full finetuning run (config.method "full"): its model in the finetuned models library (src/io/stores/full-models.ts), instead of an adapter. */
  fullModelId?: string;
  /** The step whose parameters the run's adapter (or full model) holds, when not its last: early stopping keeps the best evaluation's. */
  adapterStep?: number;
  /** Early stopping ended the run after `step`: the validation loss had not improved for `patience` evaluations. */
  stoppedEarly?: { step: number; patience: number };
  error?: { name: string; message: string };
  /** Validation loss of the base model (the starting weights), measured before step 1. */
  baseValLoss?: number;
  /** Deleted, with undo still possible: listings leave it out until it is deleted for good or restored. */
  trashedAt?: number;
}

export type NewRun = Omit<RunRecord, 'version' | 'id' | 'createdAt' | 'updatedAt' | 'pointCount' | 'status' | 'seq'>;

export const POINTS_PER_CHUNK = 512;
const LIVE: readonly RunStatus[] = ['running', 'paused'];

export interface RunStore {
  /** A new run, numbered after every earlier one (`seq`); `nameFor` names it from that number. */
  create(run: NewRun, nameFor?: (seq: number) => string): Promise<RunRecord>;
  update(id: string, patch: Partial<Omit<RunRecord, 'id' | 'version'>>): Promise<RunRecord>;
  /** Add points after those saved (only the chunks they touch are written), with `patch` to the record in the same write. */
  appendPoints(id: string, points: readonly StepPoint[], patch?: Partial<Pick<RunRecord, 'final'>>): Promise<void>;
  /** Keep only the first `count` points (a run resumed from a checkpoint drops the points after it). */
  truncatePoints(id: string, count: number): Promise<void>;
  get(id: string): Promise<RunRecord | undefined>;
  /** Newest first, without the runs in the trash. */
  list(): Promise<RunRecord[]>;
  /** Runs deleted with undo still possible. */
  trashed(): Promise<RunRecord[]>;
  /** Leave a run out of listings until `restore` (undo) or `delete` (for good). */
  trash(id: string): Promise<void>;
  restore(id: string): Promise<void>;
  points(id: string): Promise<StepPoint[]>;
  delete(id: string): Promise<void>;
  /** Runs left `running` or `paused` by a page that went away become `interrupted`; returns them. */
  markInterrupted(except?: string): Promise<RunRecord[]>;
}

export function createRunStore(kv: Kv = idbKv('finetune-studio-runs')): RunStore {
  // Writes of one run are chained so a later save never lands before an earlier one.
  const queues = new Map<string, Promise<unknown>>();
  const serial = <T>(id: string, job: () => Promise<T>): Promise<T> => {
    const next = (queues.get(id) ?? Promise.resolve()).then(job, job);
    queues.set(id, next.catch(() => undefined));
    return next;
  };
  const metaKey = (id: string) => `run:${id}`;
  const SEQ_KEY = 'seq';
  const all = async () => (await kv.entries<RunRecord>()).filter(([k]) => k.startsWith('run:')).map(([, v]) => v).sort((a, b) => b.createdAt - a.createdAt);
  const chunkKey = (id: string, n: number) => `points:${id}:${n}`;
  const mustGet = async (id: string) => {
    const r = await kv.get<RunRecord>(metaKey(id));
    if (!r) throw new Error(`run ${id} is not in the runs store (deleted in another tab?)`);
    return r;
  };

  const store: RunStore = {
    async create(run, nameFor) {
      const now = Date.now();
      // The next number: after the counter and after every kept run (the counter may have been cleared with the store).
      const seq = 1 + Math.max((await kv.get<number>(SEQ_KEY)) ?? 0, ...(await all()).map((r) => r.seq ?? 0));
      const record: RunRecord = { ...run, name: nameFor?.(seq) ?? run.name, version: 1, id: newId('run'), seq, createdAt: now, updatedAt: now, pointCount: 0, status: 'running' };
      await kv.setMany([[metaKey(record.id), record], [SEQ_KEY, seq]]);
      return record;
    },
    update: (id, patch) => serial(id, async () => {
      const next = { ...(await mustGet(id)), ...patch, updatedAt: Date.now() };
      await kv.set(metaKey(id), next);
      return next;
    }),
    appendPoints: (id, points, patch = {}) => serial(id, async () => {
      if (points.length === 0) return;
      const meta = await mustGet(id);
      const writes: [string, unknown][] = [];
      let at = meta.pointCount;
      let i = 0;
      while (i < points.length) {
        const n = Math.floor(at / POINTS_PER_CHUNK);
        const existing = at % POINTS_PER_CHUNK === 0 ? [] : ((await kv.get<StepPoint[]>(chunkKey(id, n))) ?? []);
        const take = Math.min(POINTS_PER_CHUNK - existing.length, points.length - i);
        writes.push([chunkKey(id, n), [...existing, ...points.slice(i, i + take)]]);
        i += take;
        at += take;
      }
      writes.push([metaKey(id), { ...meta, ...patch, pointCount: at, updatedAt: Date.now() }]);
      await kv.setMany(writes); // the chunks and the count land together
    }),
    truncatePoints: (id, count) => serial(id, async () => {
      const meta = await mustGet(id);
      if (count >= meta.pointCount) return;
      const keep = Math.max(0, count);
      const n = Math.floor(keep / POINTS_PER_CHUNK);
      const writes: [string, unknown][] = [];
      if (keep % POINTS_PER_CHUNK) writes.push([chunkKey(id, n), ((await kv.get<StepPoint[]>(chunkKey(id, n))) ?? []).slice(0, keep % POINTS_PER_CHUNK)]);
      writes.push([metaKey(id), { ...meta, pointCount: keep, updatedAt: Date.now() }]);
      await kv.setMany(writes);
      const drop = (await kv.keys()).filter((k) => k.startsWith(`points:${id}:`) && Number(k.slice(`points:${id}:`.length)) >= Math.ceil(keep / POINTS_PER_CHUNK));
      if (drop.length) await kv.delMany(drop);
    }),
    get: (id) => kv.get<RunRecord>(metaKey(id)),
    list: async () => (await all()).filter((r) => r.trashedAt === undefined),
    trashed: async () => (await all()).filter((r) => r.trashedAt !== undefined),
    trash: async (id) => { await store.update(id, { trashedAt: Date.now() }); },
    restore: async (id) => { await store.update(id, { trashedAt: undefined }); },
    async points(id) {
      const meta = await mustGet(id);
      const chunks = Math.ceil(meta.pointCount / POINTS_PER_CHUNK);
      const out: StepPoint[] = [];
      for (let n = 0; n < chunks; n++) out.push(...((await kv.get<StepPoint[]>(chunkKey(id, n))) ?? []));
      return out.slice(0, meta.pointCount);
    },
    delete: (id) => serial(id, async () => {
      const keys = (await kv.keys()).filter((k) => k === metaKey(id) || k.startsWith(`points:${id}:`));
      await kv.delMany(keys);
    }),
    async markInterrupted(except) {
      const stale = (await store.list()).filter((r) => LIVE.includes(r.status) && r.id !== except);
      const out: RunRecord[] = [];
      for (const r of stale) {
        out.push(await store.update(r.id, {
          status: 'interrupted',
          error: { name: 'Interrupted', message: 'the page was closed or reloaded while this run was live; its curves up to the last save are kept' },
        }));
      }
      return out;
    },
  };
  return store;
}
