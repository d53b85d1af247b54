/**
 * A whole safetensors file in memory, for small files (adapters, test fixtures). Its layout comes
 * from `safetensorsLayout` (./stream.ts), so an in-memory file and a streamed one cannot drift apart.
 */
import type { Dtype } from './dtypes';
import { safetensorsLayout } from './stream';

export interface TensorToWrite {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Little-endian element bytes: any typed array (or raw bytes) of exactly numel*itemsize bytes. */
  data: ArrayBufferView;
}

/**
 * A spec-conformant safetensors file: header JSON (tensors in the given order, then
 * `__metadata__` if given) padded with spaces so the data starts 8-byte aligned, then the tensors
 * packed back to back in the same order.
 */
export function writeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const { header, sizes, totalBytes } = safetensorsLayout(tensors, metadata);
  tensors.forEach((t, i) => {
    if (t.data.byteLength !== sizes[i]) {
      throw new Error(`safetensors: tensor "${t.name}": shape ${JSON.stringify(t.shape)} of ${t.dtype} needs ${sizes[i]} bytes but data has ${t.data.byteLength}`);
    }
  });
  const out = new Uint8Array(totalBytes);
  out.set(header, 0);
  let pos = header.byteLength;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}
