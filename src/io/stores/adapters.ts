/**
 * The adapters library: each adapter is a listing entry (`meta:<id>`: name, base model, LoRA
 * config, size, date, where it came from) and its PEFT files (`files:<id>`: the exact bytes of
 * adapter_model.safetensors and the text of adapter_config.json). Both are written in one
 * transaction, so an adapter is either whole or absent; listings never load the weights.
 */
import type { LoraConfig } from '../../config/lora-config';
import type { RunConfig } from '../../config/run-config';
import { idbKv, newId, type Kv } from './kv';

export interface AdapterMeta {
  id: string;
  name: string;
  /** The person's note about the adapter. */
  note?: string;
  /** base_model_name_or_path of the adapter. */
  baseModel: string;
  createdAt: number;
  /** Bytes of adapter_model.safetensors. */
  sizeBytes: number;
  lora: LoraConfig;
  trainableParams: number;
  origin: 'trained' | 'imported' | 'combined';
  /** The run that produced it, with that run's config. */
  runId?: string;
  runConfig?: RunConfig;
  /** The training step these weights are from and its validation loss, when not the run's last (early stopping keeps the best evaluation's). */
  fromStep?: { step: number; valLoss: number };
  /** Combined adapters: the sources and their weights. */
  combinedFrom?: { id: string; name: string; weight: number }[];
  /** Deleted, with undo still possible: listings leave it out until it is deleted for good or restored. */
  trashedAt?: number;
}

export interface AdapterFiles {
  /** adapter_model.safetensors, byte for byte. */
  weights: Uint8Array;
  /** adapter_config.json */
  configJson: string;
}

export type NewAdapter = Omit<AdapterMeta, 'id' | 'createdAt' | 'sizeBytes'>;

export interface AdapterStore {
  save(meta: NewAdapter, files: AdapterFiles): Promise<AdapterMeta>;
  /** Newest first, without the adapters in the trash. */
  list(): Promise<AdapterMeta[]>;
  /** Adapters deleted with undo still possible. */
  trashed(): Promise<AdapterMeta[]>;
  meta(id: string): Promise<AdapterMeta | undefined>;
  files(id: string): Promise<AdapterFiles>;
  rename(id: string, name: string): Promise<AdapterMeta>;
  /** Change the name and/or the note. */
  edit(id: string, patch: { name?: string; note?: string }): Promise<AdapterMeta>;
  /** Leave an adapter out of listings until `restore` (undo) or `delete` (for good). */
  trash(id: string): Promise<void>;
  restore(id: string): Promise<void>;
  delete(id: string): Promise<void>;
}

export function createAdapterStore(kv: Kv = idbKv('finetune-studio-adapters')): AdapterStore {
  const metaKey = (id: string) => `meta:${id}`;
  const filesKey = (id: string) => `files:${id}`;
  const mustMeta = async (id: string) => {
    const m = await kv.get<AdapterMeta>(metaKey(id));
    if (!m) throw new Error(`adapter ${id} is not in the library (deleted in another tab?)`);
    return m;
  };
  const all = async () => (await kv.entries<AdapterMeta>()).filter(([k]) => k.startsWith('meta:')).map(([, v]) => v).sort((a, b) => b.createdAt - a.createdAt);
  const patchMeta = async (id: string, patch: Partial<AdapterMeta>) => {
    const next = { ...(await mustMeta(id)), ...patch };
    await kv.set(metaKey(id), next);
    return next;
  };
  const edit = async (id: string, patch: { name?: string; note?: string }) => {
    const name = patch.name?.trim();
    if (patch.name !== undefined && !name) throw new Error('an adapter needs a name');
    return patchMeta(id, { ...(name ? { name } : {}), ...(patch.note !== undefined ? { note: patch.note.trim() || undefined } : {}) });
  };
  return {
    async save(meta, files) {
      const full: AdapterMeta = { ...meta, id: newId('adapter'), createdAt: Date.now(), sizeBytes: files.weights.byteLength };
      await kv.setMany([[filesKey(full.id), { weights: files.weights, configJson: files.configJson }], [metaKey(full.id), full]]);
      return full;
    },
    list: async () => (await all()).filter((a) => a.trashedAt === undefined),
    trashed: async () => (await all()).filter((a) => a.trashedAt !== undefined),
    meta: (id) => kv.get<AdapterMeta>(metaKey(id)),
    async files(id) {
      await mustMeta(id);
      const f = await kv.get<AdapterFiles>(filesKey(id));
      if (!f) throw new Error(`adapter ${id} has no stored files`);
      return f;
    },
    rename: (id, name) => edit(id, { name }),
    edit,
    trash: async (id) => { await patchMeta(id, { trashedAt: Date.now() }); },
    restore: async (id) => { await patchMeta(id, { trashedAt: undefined }); },
    delete: (id) => kv.delMany([metaKey(id), filesKey(id)]),
  };
}
