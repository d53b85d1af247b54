/**
 * Resumable checkpoints of training runs, in their own IndexedDB database. A checkpoint holds
 * what the GPU state of a run is between two steps (LoRA parameters, optimizer moments), where
 * the run stands (step, schedule, data order), a pointer into the run's curve (the points the
 * runs store kept up to the checkpoint) and the fingerprints of the model, dataset and config it
 * belongs to. Random state is not stored: dropout, data order and LoRA init are stateless
 * functions of (seed, step) (see src/train/checkpoint.ts).
 *
 * Keys: `data:<runId>:<checkpointId>` (the whole checkpoint) and `latest:<runId>` (its summary,
 * which names the data key). A save writes the new data and switches `latest` in one transaction,
 * and only then deletes the run's older data: a save that fails midway leaves the previous
 * checkpoint whole and current. At most one checkpoint per run is kept, plus the one being written.
 */
import type { Fingerprints } from '../../config/fingerprints';
import type { RunConfig } from '../../config/run-config';
import { idbKv, newId, type Kv } from './kv';

export interface Checkpoint {
  version: 1;
  id: string;
  runId: string;
  createdAt: number;
  /** Optimizer steps done; the resumed run continues with step index `step` (0-based). */
  step: number;
  totalSteps: number;
  /** Schedule position: the learning rate of the next step is learningRateAt(run, nextStep, totalSteps). */
  schedule: { kind: RunConfig['schedule']; nextStep: number; nextLr: number };
  /** Nothing to restore: dropout masks, data order and init are drawn from (seed, step, micro-batch). */
  rng: { seed: number; stateless: true };
  /** The next micro-batch: index `microBatch` of epoch `epoch`'s seeded order. */
  data: { epoch: number; microBatch: number; microBatchesPerEpoch: number };
  optimizer: {
    kind: RunConfig['optimizer'];
    /** The optimizer's state vectors in the order src/train/checkpoint.ts lists them (AdamW: [m (P), v (P)], Adafactor's first is shorter). */
    moments: Float32Array<ArrayBuffer>[];
  };
  /** (P) flat LoRA parameters in the layout's order. */
  params: Float32Array<ArrayBuffer>;
  /** Early stopping's state (runs with earlyStoppingPatience > 0): the best evaluation, its parameters (P), evaluations since it. */
  earlyStopping?: { best: { step: number; loss: number } | null; sinceBest: number; bestParams?: Float32Array<ArrayBuffer> };
  /** The run's curve up to the checkpoint: its first `count` points in the runs store; `elapsedMs` the training time then. */
  points: { count: number; elapsedMs: number };
  fingerprints: Fingerprints;
}

/** A checkpoint without its tensors (what listings show), with the bytes it takes. */
export type CheckpointInfo = Omit<Checkpoint, 'params' | 'optimizer' | 'earlyStopping'> & { optimizer: { kind: RunConfig['optimizer'] }; bytes: number };

export type NewCheckpoint = Omit<Checkpoint, 'version' | 'id' | 'createdAt'>;

export interface CheckpointStore {
  /** Store a run's new checkpoint atomically; the previous one stays until this one is whole. */
  save(c: NewCheckpoint): Promise<CheckpointInfo>;
  /** The run's latest checkpoint, or undefined. */
  load(runId: string): Promise<Checkpoint | undefined>;
  info(runId: string): Promise<CheckpointInfo | undefined>;
  list(): Promise<CheckpointInfo[]>;
  delete(runId: string): Promise<void>;
}

const latestKey = (runId: string) => `latest:${runId}`;
const dataKey = (runId: string, id: string) => `data:${runId}:${id}`;

export function checkpointInfo(c: Checkpoint): CheckpointInfo {
  const { params, optimizer, earlyStopping, ...rest } = c;
  const bytes = params.byteLength + optimizer.moments.reduce((n, m) => n + m.byteLength, 0) + (earlyStopping?.bestParams?.byteLength ?? 0);
  return { ...rest, optimizer: { kind: optimizer.kind }, bytes };
}

export function createCheckpointStore(kv: Kv = idbKv('finetune-studio-checkpoints')): CheckpointStore {
  // Saves of one run are chained: a later checkpoint never lands before an earlier one.
  const queues = new Map<string, Promise<unknown>>();
  const serial = <T>(runId: string, job: () => Promise<T>): Promise<T> => {
    const next = (queues.get(runId) ?? Promise.resolve()).then(job, job);
    queues.set(runId, next.catch(() => undefined));
    return next;
  };
  const dataKeysOf = async (runId: string) => (await kv.keys()).filter((k) => k.startsWith(`data:${runId}:`));

  const store: CheckpointStore = {
    save: (input) => serial(input.runId, async () => {
      const c: Checkpoint = { ...input, version: 1, id: newId('ckpt'), createdAt: Date.now() };
      const info = checkpointInfo(c);
      await kv.setMany([[dataKey(c.runId, c.id), c], [latestKey(c.runId), info]]);
      // Only now is the new one current: drop the older ones (a failure here leaves garbage, never a gap).
      const stale = (await dataKeysOf(c.runId)).filter((k) => k !== dataKey(c.runId, c.id));
      if (stale.length) await kv.delMany(stale).catch(() => undefined);
      return info;
    }),
    async load(runId) {
      const info = await kv.get<CheckpointInfo>(latestKey(runId));
      if (!info) return undefined;
      const c = await kv.get<Checkpoint>(dataKey(runId, info.id));
      if (!c) throw new Error(`the checkpoint of run ${runId} is listed but its data is missing (storage cleared?); start the run again`);
      return c;
    },
    info: (runId) => kv.get<CheckpointInfo>(latestKey(runId)),
    async list() {
      const out: CheckpointInfo[] = [];
      for (const k of (await kv.keys()).filter((x) => x.startsWith('latest:'))) {
        const info = await kv.get<CheckpointInfo>(k);
        if (info) out.push(info);
      }
      return out.sort((a, b) => b.createdAt - a.createdAt);
    },
    delete: (runId) => serial(runId, async () => {
      await kv.delMany([latestKey(runId), ...(await dataKeysOf(runId))]);
    }),
  };
  return store;
}
