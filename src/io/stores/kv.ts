/**
 * The key-value surface the studio's stores need, so the stores run on IndexedDB in the browser
 * (idb-keyval, one database per store) and on a Map in unit tests. Values are structured-cloned:
 * typed arrays and plain objects, never class instances.
 */
import { createStore, del, entries, get, keys, set, setMany, delMany, type UseStore } from 'idb-keyval';
import { approxBytes, isQuotaError, storageEstimate, StorageFullError } from './storage-errors';
import { requestPersistenceOnce } from './persist';

export interface Kv {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  /** Write several entries in one transaction: all of them are stored, or none. */
  setMany(items: [string, unknown][]): Promise<void>;
  del(key: string): Promise<void>;
  delMany(keys: string[]): Promise<void>;
  keys(): Promise<string[]>;
  entries<T>(): Promise<[string, T][]>;
  /** Quota and usage where the store knows them itself (the simulated quota of `memoryKv`); else the browser's. */
  estimate?(): Promise<{ quota: number | null; usage: number | null }>;
}

/**
 * Every write of `kv` that exceeds the quota becomes a StorageFullError naming what was being
 * saved (`label`, and the `name` of a record among the values), its size, the space left and what
 * to delete. The failed write changes nothing: one `set`/`setMany` is one transaction.
 */
export function withStorageErrors(kv: Kv, label: string): Kv {
  const explain = async (e: unknown, items: [string, unknown][]): Promise<never> => {
    if (!isQuotaError(e)) throw e;
    const named = items.map(([, v]) => v).find((v): v is { name: string } => typeof (v as { name?: unknown } | null)?.name === 'string');
    const what = named ? `${label} "${named.name}"` : label;
    const bytes = items.reduce((n, [k, v]) => n + k.length * 2 + approxBytes(v), 0);
    const { quota, usage } = await (kv.estimate?.() ?? storageEstimate());
    const free = quota !== null && usage !== null ? Math.max(0, quota - usage) : -1;
    throw new StorageFullError(what, bytes, free);
  };
  const saved = () => void requestPersistenceOnce(); // the first save asks the browser to keep the data
  return {
    ...kv,
    set: (key, value) => kv.set(key, value).then(saved, (e: unknown) => explain(e, [[key, value]])),
    setMany: (items) => kv.setMany(items).then(saved, (e: unknown) => explain(e, items)),
  };
}

/** What each studio database holds, for messages. */
const LABELS: Record<string, string> = {
  'finetune-studio-adapters': 'the adapter',
  'finetune-studio-runs': 'the run',
  'finetune-studio-checkpoints': 'the checkpoint',
};

/**
 * One IndexedDB database (object store "kv") per studio store; idb-keyval creates it on first use.
 * `label` says what its writes save, for the message when the quota is full ("the adapter").
 */
export function idbKv(dbName: string, label = LABELS[dbName] ?? `data of ${dbName}`): Kv {
  const store: UseStore = createStore(dbName, 'kv');
  return withStorageErrors({
    get: <T>(key: string) => get<T>(key, store),
    set: (key, value) => set(key, value, store),
    setMany: (items) => setMany(items, store),
    del: (key) => del(key, store),
    delMany: (ks) => delMany(ks, store),
    keys: async () => (await keys(store)).map(String),
    entries: async <T>() => (await entries<string, T>(store)).map(([k, v]) => [String(k), v] as [string, T]),
  }, label);
}

/**
 * In-memory stand-in with the same cloning semantics (for tests and for a browser without
 * IndexedDB). With `quotaBytes` it simulates a full disk as IndexedDB does: a write that would
 * take the stored bytes past the quota throws a `QuotaExceededError` DOMException and stores none
 * of its entries.
 */
export function memoryKv(opts: { quotaBytes?: number } = {}): Kv {
  const map = new Map<string, unknown>();
  const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));
  const sizeOf = (k: string, v: unknown) => k.length * 2 + approxBytes(v);
  const used = () => [...map].reduce((n, [k, v]) => n + sizeOf(k, v), 0);
  const write = (items: [string, unknown][]) => {
    if (opts.quotaBytes !== undefined) {
      const after = used() + items.reduce((n, [k, v]) => n + sizeOf(k, v) - (map.has(k) ? sizeOf(k, map.get(k)) : 0), 0);
      if (after > opts.quotaBytes) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    }
    const copies = items.map(([k, v]) => [k, clone(v)] as const); // clone all first: a bad value stores nothing
    for (const [k, v] of copies) map.set(k, v);
  };
  return {
    get: async <T>(key: string) => clone(map.get(key)) as T | undefined,
    set: async (key, value) => write([[key, value]]),
    setMany: async (items) => write(items),
    ...(opts.quotaBytes !== undefined ? { estimate: async () => ({ quota: opts.quotaBytes!, usage: used() }) } : {}),
    del: async (key) => void map.delete(key),
    delMany: async (ks) => ks.forEach((k) => map.delete(k)),
    keys: async () => [...map.keys()],
    entries: async <T>() => [...map].map(([k, v]) => [k, clone(v)] as [string, T]),
  };
}

/** A sortable, unique id: time first so listings come out in creation order. */
export function newId(prefix: string): string {
  const rand = Math.floor(Math.random() * 2 ** 32).toString(36).padStart(7, '0');
  return `${prefix}-${Date.now().toString(36)}-${rand}`;
}
