/**
 * A GGUF of a fully finetuned model of the library, for llama.cpp, Ollama and LM Studio: its stored
 * files opened as a model folder (./full-model-source.ts) and written by the same exporter as a base
 * model's (`what: 'base'`): its own weights, config and tokenizer metadata, with its Ollama Modelfile.
 * Needs no loaded model, except for a model kept without its tokenizer (its base model gives it).
 */
import type { GgufExportType } from '../io/gguf/tensor-types';
import { openModel } from '../io/model-source/model';
import type { FullModelStore } from '../io/stores/full-models';
import type { GgufDownload } from './api';
import { storedModelFiles, storedTokenizer } from './full-model-source';
import { ggufBlob } from './gguf-blob';
import { fileStem } from './library';
import type { LoadedModel } from './model';

export async function fullModelGguf(
  store: FullModelStore, id: string, type: GgufExportType, loaded: LoadedModel | null,
  onProgress?: (p: { bytes: number; totalBytes: number }) => void,
): Promise<GgufDownload> {
  const meta = await store.meta(id);
  if (!meta) throw new Error(`finetuned model ${id} is not in the library (deleted in another tab?)`);
  const files = await store.files(id);
  const model = await openModel(storedModelFiles(meta.name, files, await storedTokenizer(meta, files, loaded)));
  const fileName = `${fileStem(meta.name)}-${type}.gguf`;
  return { ...(await ggufBlob({ model, what: 'base', type, fileName }, onProgress)), baseFileName: null };
}
