/**
 * What a run needs to come back after a reload without the person: how its base model was loaded
 * (the bundled demo, a Hub repo, or files picked from disk, which only the person can pick again)
 * and its dataset file with the options it was read with, in their own IndexedDB database.
 *
 * Keys: `run:<runId>` (the run's record: model source, dataset name, options and the content hash
 * of the file) and `data:<sha256>` (the file's bytes as a Blob, stored once however many runs use
 * it). No access token is ever stored: a gated Hub repo comes back from the cache, or the person
 * loads it again. A file above `maxDatasetBytes`, or one the quota has no room for, is not kept;
 * the run's record says why, so resuming can ask for it by name.
 */
import type { ItemStore, StoredItem } from './item-store';
import { sha256 } from '../../core/hash';
import { idbKv, type Kv } from './kv';
import { mb, StorageFullError } from './storage-errors';

/** The most dataset bytes kept for resuming (larger files are asked for again). */
export const MAX_STORED_DATASET_BYTES = 256 * 2 ** 20;

/** How a base model was loaded, without secrets. */
export type StoredModelSource =
  | { kind: 'demo' }
  /** `withToken`: it was loaded with an access token (gated or private), which is not kept. */
  | { kind: 'hub'; repo: string; revision?: string; endpoint?: string; withToken: boolean }
  /** Files picked from disk: only their names (the browser cannot open them again by itself). */
  | { kind: 'files'; names: string[] }
  /** A model folder at an address the person typed (not kept: it may carry credentials). */
  | { kind: 'url' };

/** A run's inputs. `Options` are the worker's dataset options (io knows nothing of the worker). */
export interface RunInputs<Options extends object = object> {
  runId: string;
  runName: string;
  savedAt: number;
  model: { name: string; source: StoredModelSource };
  dataset: {
    name: string;
    bytes: number;
    options: Options;
    /** SHA-256 of the file's bytes, the key of its stored copy; null when it was not kept. */
    hash: string | null;
    /** Why it was not kept (too large, no room), as a clause: "train.jsonl (300 MiB) is above ...". */
    notKept?: string;
  };
}

/** The stored copy of a dataset file. */
interface StoredDataset {
  name: string;
  hash: string;
  bytes: number;
  blob: Blob;
}

export interface RunInputStore<Options extends object = object> {
  /** Record a run's inputs (again, on resume); the file is stored once per content. */
  save(input: { runId: string; runName: string; model: RunInputs['model']; file: Blob; fileName: string; options: Options }): Promise<RunInputs<Options>>;
  get(runId: string): Promise<RunInputs<Options> | undefined>;
  /** The stored dataset file, or null when it was not kept or was deleted since (Storage tab). */
  dataset(record: RunInputs<Options>): Promise<File | null>;
  /** Drop the run's record, and its dataset when no other run refers to it. */
  forget(runId: string): Promise<void>;
  /** Drop everything. */
  clear(): Promise<void>;
  /** For the Storage tab: one item per stored dataset; removing a run id forgets that run. */
  items: ItemStore;
}

const runKey = (runId: string) => `run:${runId}`;
const dataKey = (hash: string) => `data:${hash}`;

export function createRunInputStore<Options extends object = object>(
  kv: Kv = idbKv('finetune-studio-run-inputs', 'the dataset kept for resuming'),
  opts: { maxDatasetBytes?: number } = {},
): RunInputStore<Options> {
  const cap = opts.maxDatasetBytes ?? MAX_STORED_DATASET_BYTES;
  // One change at a time: a run forgotten while another saves the same file never drops it under it.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const next = queue.then(job, job);
    queue = next.catch(() => undefined);
    return next;
  };
  const records = async () => {
    const out: RunInputs<Options>[] = [];
    for (const k of (await kv.keys()).filter((x) => x.startsWith('run:'))) {
      const r = await kv.get<RunInputs<Options>>(k);
      if (r) out.push(r);
    }
    return out;
  };
  const dropIfUnused = async (hash: string | null) => {
    if (hash && !(await records()).some((r) => r.dataset.hash === hash)) await kv.del(dataKey(hash));
  };
  const forget = (runId: string) => serial(async () => {
    const r = await kv.get<RunInputs<Options>>(runKey(runId));
    if (!r) return;
    await kv.del(runKey(runId));
    await dropIfUnused(r.dataset.hash);
  });

  const store: RunInputStore<Options> = {
    save: ({ runId, runName, model, file, fileName, options }) => serial(async () => {
      const base = { runId, runName, savedAt: Date.now(), model };
      const notKept = (why: string): RunInputs<Options> => ({ ...base, dataset: { name: fileName, bytes: file.size, options, hash: null, notKept: why } });
      const previous = (await kv.get<RunInputs<Options>>(runKey(runId)))?.dataset.hash ?? null;
      let record: RunInputs<Options>;
      if (file.size > cap) {
        record = notKept(`"${fileName}" (${mb(file.size)}) is above the ${mb(cap)} this studio keeps for resuming`);
        await kv.set(runKey(runId), record);
      } else {
        const hash = await sha256(new Uint8Array(await file.arrayBuffer()));
        record = { ...base, dataset: { name: fileName, bytes: file.size, options, hash } };
        const stored = await kv.get<StoredDataset>(dataKey(hash));
        try {
          if (stored) await kv.set(runKey(runId), record);
          else await kv.setMany([[dataKey(hash), { name: fileName, hash, bytes: file.size, blob: file.slice(0, file.size) } satisfies StoredDataset], [runKey(runId), record]]);
        } catch (e) {
          if (!(e instanceof StorageFullError)) throw e;
          // No room for the file: keep the record (the model can still come back by itself).
          record = notKept(`there was no room to keep "${fileName}" (${mb(file.size)}) in this browser's storage`);
          await kv.set(runKey(runId), record).catch(() => undefined);
          throw e;
        }
      }
      if (previous !== record.dataset.hash) await dropIfUnused(previous);
      return record;
    }),
    get: (runId) => kv.get<RunInputs<Options>>(runKey(runId)),
    async dataset(record) {
      if (!record.dataset.hash) return null;
      const d = await kv.get<StoredDataset>(dataKey(record.dataset.hash));
      return d ? new File([d.blob], record.dataset.name) : null;
    },
    forget,
    clear: () => serial(async () => kv.delMany(await kv.keys())),
    items: {
      async list() {
        const users = new Map<string, number>();
        for (const r of await records()) if (r.dataset.hash) users.set(r.dataset.hash, (users.get(r.dataset.hash) ?? 0) + 1);
        const out: StoredItem[] = [];
        for (const k of (await kv.keys()).filter((x) => x.startsWith('data:'))) {
          const d = await kv.get<StoredDataset>(k);
          if (!d) continue;
          const n = users.get(d.hash) ?? 0;
          out.push({ id: d.hash, name: `${d.name} (dataset kept to resume ${n} run${n === 1 ? '' : 's'})`, bytes: d.bytes });
        }
        return out.sort((a, b) => b.bytes - a.bytes);
      },
      // A dataset's hash drops its copy (its runs then ask for the file); a run id forgets that run.
      remove: (id) => (/^[0-9a-f]{64}$/.test(id) ? serial(() => kv.del(dataKey(id))) : forget(id)),
    },
  };
  return store;
}
