/**
 * What the studio keeps in this browser, by category, and deleting what a person chooses:
 * - models: the Hub cache in OPFS (`hf-hub/models--org--name/...`), one item per repo;
 * - adapters, finetuned (fully finetuned models), runs, checkpoints: one IndexedDB database each (kv.ts), one item per adapter, run or
 *   checkpointed run. Keys are `<kind>:<id>[:...]`, so an item is every key with the same id.
 *   Checkpoints also list the datasets kept to resume them (run-inputs.ts); deleting a run's
 *   checkpoint forgets its inputs too, and a dataset no other run uses.
 * IndexedDB does not report sizes, so an item's bytes are those of its values once cloned
 * (approxBytes): close to what is stored, not the exact on-disk size; the browser's own total
 * (`navigator.storage.estimate()`) is reported beside them.
 */
import { idbKv, type Kv } from './kv';
import { isPersisted } from './persist';
import { approxBytes, storageEstimate } from './storage-errors';
import { createRunInputStore } from './run-inputs';
import { FULL_MODELS_DB } from './full-models';
import type { ItemStore, StoredItem } from './item-store';

export const STORAGE_CATEGORIES = ['models', 'adapters', 'finetuned', 'checkpoints', 'runs'] as const;
export type StorageCategory = (typeof STORAGE_CATEGORIES)[number];

export interface CategoryUsage {
  category: StorageCategory;
  label: string;
  /** One line on what deleting it costs. */
  description: string;
  bytes: number;
  items: StoredItem[];
  /** False where this browser has no such storage (e.g. no OPFS for the models cache). */
  available: boolean;
}

export interface StorageReport {
  categories: CategoryUsage[];
  /** The browser's quota and usage for this site (null where it does not say). */
  quota: number | null;
  usage: number | null;
  /** Whether the browser promised to keep this site's data (null where it cannot say). */
  persisted: boolean | null;
}

const LABELS: Record<StorageCategory, [string, string]> = {
  models: ['Cached models', 'Hub downloads; deleting one means downloading it again next time'],
  adapters: ['Adapters', 'trained and imported adapters; download one first to keep a copy'],
  finetuned: ['Finetuned models', 'fully finetuned models (every weight, in f32); download one first to keep a copy'],
  checkpoints: ['Checkpoints', 'saved training state and the datasets kept to resume it; without it an interrupted run cannot be resumed'],
  runs: ['Runs', 'run history: configs and curves'],
};

/** Items of a kv database: keys grouped by the id after the kind, named by a record's `name`. */
export function kvItems(kv: Kv): ItemStore {
  const idOf = (key: string) => key.split(':')[1] ?? key;
  return {
    async list() {
      const items = new Map<string, StoredItem>();
      for (const [key, value] of await kv.entries<unknown>()) {
        if (!key.includes(':')) continue; // the store's own bookkeeping (the runs' counter), not an item
        const id = idOf(key);
        const item = items.get(id) ?? { id, name: id, bytes: 0 };
        item.bytes += key.length * 2 + approxBytes(value);
        const v = value as { name?: unknown; runName?: unknown } | null;
        const name = typeof v?.name === 'string' ? v.name : typeof v?.runName === 'string' ? v.runName : null;
        if (name && item.name === id) item.name = name;
        items.set(id, item);
      }
      return [...items.values()].sort((a, b) => b.bytes - a.bytes);
    },
    async remove(id) {
      await kv.delMany((await kv.keys()).filter((k) => idOf(k) === id));
    },
  };
}

/** Several stores listed as one category; removing an id removes it from each store that has it. */
export function joinItems(...parts: ItemStore[]): ItemStore {
  return {
    list: async () => (await Promise.all(parts.map((p) => p.list()))).flat().sort((a, b) => b.bytes - a.bytes),
    async remove(id) {
      for (const p of parts) await p.remove(id);
    },
  };
}

/** The Hub cache in OPFS (opfs-cache.ts): one item per `models--org--name` folder. */
export function opfsModelItems(rootName = 'hf-hub'): ItemStore | null {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  if (typeof storage?.getDirectory !== 'function') return null;
  const root = async () => (await storage.getDirectory()).getDirectoryHandle(rootName, { create: true });
  return {
    async list() {
      const out: StoredItem[] = [];
      for await (const [name, handle] of entriesOf(await root())) {
        if (handle.kind !== 'directory') continue;
        out.push({ id: name, name: name.replace(/^models--/, '').split('--').join('/'), bytes: await dirBytes(handle as FileSystemDirectoryHandle) });
      }
      return out.sort((a, b) => b.bytes - a.bytes);
    },
    async remove(id) {
      await (await root()).removeEntry(id, { recursive: true }).catch((e: unknown) => {
        if (!(e instanceof DOMException && e.name === 'NotFoundError')) throw e;
      });
    },
  };
}

type DirEntries = AsyncIterable<[string, FileSystemHandle]>;
const entriesOf = (dir: FileSystemDirectoryHandle): DirEntries => (dir as unknown as { entries(): DirEntries }).entries();

async function dirBytes(dir: FileSystemDirectoryHandle): Promise<number> {
  let n = 0;
  for await (const [, h] of entriesOf(dir)) {
    n += h.kind === 'file' ? (await (h as FileSystemFileHandle).getFile()).size : await dirBytes(h as FileSystemDirectoryHandle);
  }
  return n;
}

export interface StorageUsage {
  report(): Promise<StorageReport>;
  deleteItem(category: StorageCategory, id: string): Promise<void>;
  deleteCategory(category: StorageCategory): Promise<void>;
}

/** Usage over the given stores; by default the studio's IndexedDB databases and its OPFS Hub cache. */
export function createStorageUsage(stores: Partial<Record<StorageCategory, ItemStore | null>> = defaultStores()): StorageUsage {
  const need = (c: StorageCategory): ItemStore => {
    if (!STORAGE_CATEGORIES.includes(c)) throw new Error(`unknown storage category "${c}"; expected one of ${STORAGE_CATEGORIES.join(', ')}`);
    const s = stores[c];
    if (!s) throw new Error(`this browser has no ${LABELS[c][0].toLowerCase()} storage to delete from`);
    return s;
  };
  return {
    async report() {
      const categories = await Promise.all(STORAGE_CATEGORIES.map(async (category): Promise<CategoryUsage> => {
        const s = stores[category];
        const items = s ? await s.list() : [];
        const [label, description] = LABELS[category];
        return { category, label, description, items, bytes: items.reduce((n, i) => n + i.bytes, 0), available: !!s };
      }));
      // Checkpoints are keyed by run id: show the run's name.
      const runNames = new Map(categories.find((c) => c.category === 'runs')!.items.map((i) => [i.id, i.name]));
      for (const i of categories.find((c) => c.category === 'checkpoints')!.items) {
        if (i.name === i.id && runNames.has(i.id)) i.name = `${runNames.get(i.id)} (checkpoint)`;
      }
      return { categories, ...(await storageEstimate()), persisted: await isPersisted() };
    },
    deleteItem: (category, id) => need(category).remove(id),
    async deleteCategory(category) {
      const s = need(category);
      for (const item of await s.list()) await s.remove(item.id);
    },
  };
}

function defaultStores(): Record<StorageCategory, ItemStore | null> {
  return {
    models: opfsModelItems(),
    adapters: kvItems(idbKv('finetune-studio-adapters')),
    finetuned: kvItems(idbKv(FULL_MODELS_DB, 'the finetuned model')),
    checkpoints: joinItems(kvItems(idbKv('finetune-studio-checkpoints')), createRunInputStore().items),
    runs: kvItems(idbKv('finetune-studio-runs')),
  };
}
