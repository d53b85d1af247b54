/**
 * The library of fully finetuned models (runs with `method: "full"`): each is a listing entry
 * (`meta:<id>`: name, base model, size, date, the run it came from) and its files (`files:<id>`:
 * model.safetensors byte for byte, config.json, generation_config.json and the base model's
 * tokenizer files, so the download needs nothing else). Both are written in one transaction, so a
 * model is either whole or absent, and a write over the quota is a StorageFullError that changes
 * nothing; listings never load the weights. Kept apart from the adapters library: nothing that
 * reads a LoRA adapter (merge, playground, GGUF) can be handed a full model by mistake.
 */
import type { RunConfig } from '../../config/run-config';
import { idbKv, newId, type Kv } from './kv';

export interface FullModelMeta {
  id: string;
  name: string;
  /** The person's note about the model. */
  note?: string;
  /** The base model it was finetuned from (its name as loaded). */
  baseModel: string;
  createdAt: number;
  /** Bytes of model.safetensors. */
  sizeBytes: number;
  /** Every base weight was trained: the base model's parameter count. */
  trainableParams: number;
  /** The run that produced it, with that run's config. */
  runId?: string;
  runConfig?: RunConfig;
  /** The training step these weights are from and its validation loss, when not the run's last (early stopping keeps the best evaluation's). */
  fromStep?: { step: number; valLoss: number };
  /** Deleted, with undo still possible: listings leave it out until it is deleted for good or restored. */
  trashedAt?: number;
}

export interface FullModelFiles {
  /** model.safetensors (F32), byte for byte. */
  weights: Uint8Array;
  /** config.json (torch_dtype float32). */
  configJson: string;
  /** generation_config.json: the base model's, or one from its config's token ids. */
  generationConfigJson: string;
  /** The base model's tokenizer files (tokenizer.json, tokenizer_config.json, ...); empty when they could not be read at the end of the run. */
  tokenizer: { name: string; bytes: Uint8Array }[];
}

export type NewFullModel = Omit<FullModelMeta, 'id' | 'createdAt' | 'sizeBytes'>;

export interface FullModelStore {
  save(meta: NewFullModel, files: FullModelFiles): Promise<FullModelMeta>;
  /** Newest first, without the models in the trash. */
  list(): Promise<FullModelMeta[]>;
  /** Models deleted with undo still possible. */
  trashed(): Promise<FullModelMeta[]>;
  meta(id: string): Promise<FullModelMeta | undefined>;
  files(id: string): Promise<FullModelFiles>;
  /** Change the name and/or the note. */
  edit(id: string, patch: { name?: string; note?: string }): Promise<FullModelMeta>;
  /** Leave a model out of listings until `restore` (undo) or `delete` (for good). */
  trash(id: string): Promise<void>;
  restore(id: string): Promise<void>;
  delete(id: string): Promise<void>;
}

export const FULL_MODELS_DB = 'finetune-studio-full-models';

export function createFullModelStore(kv: Kv = idbKv(FULL_MODELS_DB, 'the finetuned model')): FullModelStore {
  const metaKey = (id: string) => `meta:${id}`;
  const filesKey = (id: string) => `files:${id}`;
  const mustMeta = async (id: string) => {
    const m = await kv.get<FullModelMeta>(metaKey(id));
    if (!m) throw new Error(`finetuned model ${id} is not in the library (deleted in another tab?)`);
    return m;
  };
  const all = async () => (await kv.entries<FullModelMeta>()).filter(([k]) => k.startsWith('meta:')).map(([, v]) => v).sort((a, b) => b.createdAt - a.createdAt);
  const patchMeta = async (id: string, patch: Partial<FullModelMeta>) => {
    const next = { ...(await mustMeta(id)), ...patch };
    await kv.set(metaKey(id), next);
    return next;
  };
  return {
    async save(meta, files) {
      const full: FullModelMeta = { ...meta, id: newId('model'), createdAt: Date.now(), sizeBytes: files.weights.byteLength };
      const stored: FullModelFiles = { weights: files.weights, configJson: files.configJson, generationConfigJson: files.generationConfigJson, tokenizer: files.tokenizer };
      await kv.setMany([[filesKey(full.id), stored], [metaKey(full.id), full]]);
      return full;
    },
    list: async () => (await all()).filter((m) => m.trashedAt === undefined),
    trashed: async () => (await all()).filter((m) => m.trashedAt !== undefined),
    meta: (id) => kv.get<FullModelMeta>(metaKey(id)),
    async files(id) {
      await mustMeta(id);
      const f = await kv.get<FullModelFiles>(filesKey(id));
      if (!f) throw new Error(`finetuned model ${id} has no stored files`);
      return f;
    },
    async edit(id, patch) {
      const name = patch.name?.trim();
      if (patch.name !== undefined && !name) throw new Error('a finetuned model needs a name');
      return patchMeta(id, { ...(name ? { name } : {}), ...(patch.note !== undefined ? { note: patch.note.trim() || undefined } : {}) });
    },
    trash: async (id) => { await patchMeta(id, { trashedAt: Date.now() }); },
    restore: async (id) => { await patchMeta(id, { trashedAt: undefined }); },
    delete: (id) => kv.delMany([metaKey(id), filesKey(id)]),
  };
}
