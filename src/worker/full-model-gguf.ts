/**
 * A GGUF of a fully finetuned model of the library, for llama.cpp, Ollama and LM Studio: its stored
 * files opened as a model folder (./full-model-source.ts) and written by the same exporter as a base
 * model's (`what: 'base'`): its own weights, config and tokenizer metadata, with its Ollama Modelfile.
 * Needs no loaded model, except for a model kept without its tokenizer (its base model gives it).
 */
import type { GgufExportType } from '../io/gguf/tensor-types';
import { openModel } from '../io/model-source/model';
import type { FullModelStore } from '../io/stores/full-models';
import { exportGguf } from '../model/export/gguf-export';
import type { GgufDownload } from './api';
import { storedModelFiles, storedTokenizer } from './full-model-source';
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
  const chunks: Blob[] = [];
  const r = await exportGguf({
    model, what: 'base', type, fileName,
    sink: (chunk) => { chunks.push(new Blob([chunk as Uint8Array<ArrayBuffer>])); }, // copied now: the chunk may be reused
    onProgress: (p) => onProgress?.({ bytes: p.bytes, totalBytes: p.totalBytes }),
  });
  onProgress?.({ bytes: r.totalBytes, totalBytes: r.totalBytes });
  return {
    gguf: new Blob(chunks, { type: 'application/octet-stream' }), fileName, bytes: r.totalBytes,
    modelfile: { name: fileName.replace(/\.gguf$/, '.Modelfile'), bytes: new TextEncoder().encode(r.modelfile) },
    baseFileName: null,
    warnings: r.warnings,
  };
}
