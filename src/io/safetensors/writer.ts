import { isDtype, type Dtype } from './dtypes';
import { byteSize } from './header';

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
  const seen = new Set<string>();
  const entries: string[] = [];
  let offset = 0;
  for (const t of tensors) {
    const what = `writeSafetensors: tensor "${t.name}"`;
    if (t.name === '' || t.name === '__metadata__') throw new Error(`writeSafetensors: invalid tensor name "${t.name}"`);
    if (seen.has(t.name)) throw new Error(`${what} appears twice`);
    seen.add(t.name);
    if (!isDtype(t.dtype)) throw new Error(`${what}: unknown dtype ${String(t.dtype)}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`${what}: bad shape ${JSON.stringify(t.shape)}`);
    const want = byteSize(t.dtype, t.shape);
    if (want !== t.data.byteLength) {
      throw new Error(`${what}: shape ${JSON.stringify(t.shape)} of ${t.dtype} needs ${want} bytes but data has ${t.data.byteLength}`);
    }
    const end = offset + want;
    // Built by hand, not from one object: JS would reorder integer-like keys such as "0".
    entries.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] })}`);
    offset = end;
  }
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`writeSafetensors: metadata "${k}" must be a string`);
    }
    entries.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  const json = new TextEncoder().encode(`{${entries.join(',')}}`);
  const headerLen = Math.ceil(json.byteLength / 8) * 8; // 8 + headerLen is then a multiple of 8

  const out = new Uint8Array(8 + headerLen + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.byteLength, 8 + headerLen);
  let pos = 8 + headerLen;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}
