/**
 * The key-value surface the studio's stores need, so the stores run on IndexedDB in the browser
 * (idb-keyval, one database per store) and on a Map in unit tests. Values are structured-cloned:
 * typed arrays and plain objects, never class instances.
 */
import { createStore, del, entries, get, keys, set, setMany, delMany, type UseStore } from 'idb-keyval';

export interface Kv {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
  /** Write several entries in one transaction: all of them are stored, or none. */
  setMany(items: [string, unknown][]): Promise<void>;
  del(key: string): Promise<void>;
  delMany(keys: string[]): Promise<void>;
  keys(): Promise<string[]>;
  entries<T>(): Promise<[string, T][]>;
}

/** One IndexedDB database (object store "kv") per studio store; idb-keyval creates it on first use. */
export function idbKv(dbName: string): Kv {
  const store: UseStore = createStore(dbName, 'kv');
  return {
    get: <T>(key: string) => get<T>(key, store),
    set: (key, value) => set(key, value, store),
    setMany: (items) => setMany(items, store),
    del: (key) => del(key, store),
    delMany: (ks) => delMany(ks, store),
    keys: async () => (await keys(store)).map(String),
    entries: async <T>() => (await entries<string, T>(store)).map(([k, v]) => [String(k), v] as [string, T]),
  };
}

/** In-memory stand-in with the same cloning semantics (for tests and for a browser without IndexedDB). */
export function memoryKv(): Kv {
  const map = new Map<string, unknown>();
  const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));
  return {
    get: async <T>(key: string) => clone(map.get(key)) as T | undefined,
    set: async (key, value) => void map.set(key, clone(value)),
    setMany: async (items) => items.forEach(([k, v]) => map.set(k, clone(v))),
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
