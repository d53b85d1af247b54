/**
 * Sweeps kept across reloads (`sweep:<id>` in the 'finetune-studio-sweeps' database): the queue
 * of runs, which ones finished and what they came to. Writes are chained, so a later save never
 * lands before an earlier one. The runs themselves (curves, adapters) live in their own stores.
 */
import { idbKv, memoryKv, newId, type Kv } from '../io/stores/kv';
import type { SweepRecord } from './sweep-types';

export interface SweepStore {
  create(s: Omit<SweepRecord, 'version' | 'id' | 'createdAt' | 'updatedAt'>): Promise<SweepRecord>;
  save(s: SweepRecord): Promise<SweepRecord>;
  get(id: string): Promise<SweepRecord | undefined>;
  /** Newest first. */
  list(): Promise<SweepRecord[]>;
  delete(id: string): Promise<void>;
  /** Sweeps left `running` by a page that went away become `interrupted`. */
  markInterrupted(): Promise<void>;
}

/** The browser's database, or memory where there is no IndexedDB (Node tests). */
export function defaultSweepKv(): Kv {
  return typeof indexedDB === 'undefined' ? memoryKv() : idbKv('finetune-studio-sweeps', 'the sweep');
}

export function createSweepStore(kv: Kv = defaultSweepKv()): SweepStore {
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const next = chain.then(job, job);
    chain = next.catch(() => undefined);
    return next;
  };
  const key = (id: string) => `sweep:${id}`;
  const all = async () => (await kv.entries<SweepRecord>()).filter(([k]) => k.startsWith('sweep:')).map(([, v]) => v).sort((a, b) => b.createdAt - a.createdAt);
  const store: SweepStore = {
    create: (s) => serial(async () => {
      const now = Date.now();
      const record: SweepRecord = { ...s, version: 1, id: newId('sweep'), createdAt: now, updatedAt: now };
      await kv.set(key(record.id), record);
      return record;
    }),
    save: (s) => serial(async () => {
      const record = { ...s, updatedAt: Date.now() };
      await kv.set(key(s.id), record);
      return record;
    }),
    get: (id) => kv.get<SweepRecord>(key(id)),
    list: all,
    delete: (id) => serial(() => kv.del(key(id))),
    markInterrupted: () => serial(async () => {
      for (const s of await all()) if (s.status === 'running') await kv.set(key(s.id), { ...s, status: 'interrupted', updatedAt: Date.now() });
    }),
  };
  return store;
}
