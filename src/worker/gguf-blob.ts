/**
 * A GGUF export written into a Blob for the page to download, with its Ollama Modelfile: what the
 * adapters' and the finetuned models' GGUF downloads share. Progress ends at the file's total.
 */
import { exportGguf, type GgufExportOptions } from '../model/export/gguf-export';
import type { GgufDownload } from './api';

export async function ggufBlob(
  o: Omit<GgufExportOptions, 'sink' | 'onProgress'>, onProgress?: (p: { bytes: number; totalBytes: number }) => void,
): Promise<Omit<GgufDownload, 'baseFileName'>> {
  const chunks: Blob[] = [];
  const r = await exportGguf({
    ...o,
    sink: (chunk) => { chunks.push(new Blob([chunk as Uint8Array<ArrayBuffer>])); }, // copied now: the chunk may be reused
    onProgress: (p) => onProgress?.({ bytes: p.bytes, totalBytes: p.totalBytes }),
  });
  onProgress?.({ bytes: r.totalBytes, totalBytes: r.totalBytes });
  return {
    gguf: new Blob(chunks, { type: 'application/octet-stream' }), fileName: o.fileName, bytes: r.totalBytes,
    modelfile: { name: o.fileName.replace(/\.gguf$/, '.Modelfile'), bytes: new TextEncoder().encode(r.modelfile) },
    warnings: r.warnings,
  };
}
