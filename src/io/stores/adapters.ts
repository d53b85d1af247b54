/**
 * The adapters library: each adapter is a listing entry (`meta:<id>`: name, base model, LoRA
 * config, size, date, where it came from) and its PEFT files (`files:<id>`: the exact bytes of
 * adapter_model.safetensors and the text of adapter_config.json). Both are written in one
 * transaction, so an adapter is either whole or absent; listings never load the weights.
 */
import type { LoraConfig } from '../../config/lora-config';
import type { RunConfig } from '../../config/run-config';
import { idbKv, type Kv } from './kv';
import { createLibraryStore, type LibraryStore } from './library-store';

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

/** save, list, trashed, meta, files, edit (name and note), trash, restore, delete (library-store.ts), and rename. */
export interface AdapterStore extends LibraryStore<AdapterMeta, AdapterFiles> {
  rename(id: string, name: string): Promise<AdapterMeta>;
}

export function createAdapterStore(kv: Kv = idbKv('finetune-studio-adapters')): AdapterStore {
  const library = createLibraryStore<AdapterMeta, AdapterFiles>(kv, {
    noun: 'adapter', withArticle: 'an adapter', idPrefix: 'adapter',
    sizeOf: (f) => f.weights.byteLength,
    stored: (f) => ({ weights: f.weights, configJson: f.configJson }),
  });
  return { ...library, rename: (id, name) => library.edit(id, { name }) };
}
