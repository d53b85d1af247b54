/**
 * The library of fully finetuned models (runs with `method: "full"`): each is a listing entry
 * (`meta:<id>`: name, base model, size, date, the run it came from) and its files (`files:<id>`:
 * model.safetensors byte for byte, config.json, generation_config.json and the base model's
 * tokenizer files, so the download needs nothing else). Both are written in one transaction, so a
 * model is either whole or absent, and a write over the quota is a StorageFullError that changes
 * nothing; listings never load the weights. Kept apart from the adapters library: nothing that
 * reads a LoRA adapter (merge, playground, GGUF) can be handed a full model by mistake.
 */
import { idbKv, type Kv } from './kv';
import { createLibraryStore, type LibraryMeta, type LibraryStore, type TrainedFrom } from './library-store';

/** A fully finetuned model of the library (sizeBytes: model.safetensors; trainableParams: the base model's count, every weight trained). */
export type FullModelMeta = LibraryMeta & TrainedFrom;

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

/** save, list, trashed, meta, files, edit (name and note), trash, restore, delete: see library-store.ts. */
export type FullModelStore = LibraryStore<FullModelMeta, FullModelFiles>;

export const FULL_MODELS_DB = 'finetune-studio-full-models';

export function createFullModelStore(kv: Kv = idbKv(FULL_MODELS_DB, 'the finetuned model')): FullModelStore {
  return createLibraryStore<FullModelMeta, FullModelFiles>(kv, {
    noun: 'finetuned model', withArticle: 'a finetuned model', idPrefix: 'model',
    sizeOf: (f) => f.weights.byteLength,
    stored: (f) => ({ weights: f.weights, configJson: f.configJson, generationConfigJson: f.generationConfigJson, tokenizer: f.tokenizer }),
  });
}
