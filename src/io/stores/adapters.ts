/**
 * The adapters library: each adapter is a listing entry (`meta:<id>`: name, base model, LoRA
 * config, size, date, where it came from) and its PEFT files (`files:<id>`: the exact bytes of
 * adapter_model.safetensors and the text of adapter_config.json). Both are written in one
 * transaction, so an adapter is either whole or absent; listings never load the weights.
 */
import type { LoraConfig } from '../../config/lora-config';
import { idbKv, type Kv } from './kv';
import { createLibraryStore, type LibraryMeta, type LibraryStore, type TrainedFrom } from './library-store';

/** An adapter of the library (sizeBytes: adapter_model.safetensors). */
export interface AdapterMeta extends LibraryMeta, TrainedFrom {
  lora: LoraConfig;
  origin: 'trained' | 'imported' | 'combined';
  /** Combined adapters: the sources and their weights. */
  combinedFrom?: { id: string; name: string; weight: number }[];
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
