/**
 * A small GGUF reader for files in memory: the header, every metadata value, the tensor infos,
 * and each tensor's bytes (dequantized to f32 for the types ./quantize.ts knows). The tests and
 * the llama.cpp check read exported files back with it; it refuses what it cannot parse with a
 * BadFileError naming the place.
 */
import { BadFileError } from '../../core/errors';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgmlType, GgufValueType, tensorBytes, type WrittenGgmlType } from './constants';
import { dequantize } from './quantize';

export type GgufReadValue = number | bigint | boolean | string | GgufReadValue[];

export interface GgufReadTensor {
  name: string;
  /** ne, innermost first */
  dims: number[];
  type: WrittenGgmlType;
  /** From the start of the data section. */
  offset: number;
}

export interface GgufFile {
  version: number;
  metadata: Map<string, GgufReadValue>;
  /** Each key's value type tag (gguf_type), and for arrays the item type. */
  types: Map<string, { type: number; itemType?: number }>;
  tensors: GgufReadTensor[];
  alignment: number;
  /** Where the data section starts. */
  dataOffset: number;
  /** The raw bytes of one tensor. */
  raw(name: string): Uint8Array;
  /** One tensor as f32 values (row-major, innermost dimension fastest). */
  f32(name: string): Float32Array;
}

const WRITTEN: WrittenGgmlType[] = ['F32', 'F16', 'Q8_0', 'Q4_0', 'Q5_0', 'Q4_K', 'Q6_K'];
const TYPE_NAMES = new Map<number, WrittenGgmlType>(WRITTEN.map((t) => [GgmlType[t], t]));

export function readGguf(bytes: Uint8Array, name = 'file.gguf'): GgufFile {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder('utf-8', { fatal: true });
  let at = 0;
  const bad = (what: string) => new BadFileError(name, `${what} (at byte ${at})`);
  const need = (n: number) => {
    if (at + n > bytes.byteLength) throw bad(`ends early: ${n} more bytes needed`);
  };
  const u32 = () => (need(4), (at += 4), dv.getUint32(at - 4, true));
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(at, true);
    at += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(`a size of ${v} is too large`);
    return Number(v);
  };
  const str = () => {
    const n = u64();
    need(n);
    at += n;
    return dec.decode(bytes.subarray(at - n, at));
  };
  const scalar = (type: number): GgufReadValue => {
    const size = [1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8][type];
    if (type === GgufValueType.STRING) return str();
    if (size === undefined || size === 0) throw bad(`unknown value type ${type}`);
    need(size);
    const p = at;
    at += size;
    switch (type) {
      case GgufValueType.UINT8: return dv.getUint8(p);
      case GgufValueType.INT8: return dv.getInt8(p);
      case GgufValueType.UINT16: return dv.getUint16(p, true);
      case GgufValueType.INT16: return dv.getInt16(p, true);
      case GgufValueType.UINT32: return dv.getUint32(p, true);
      case GgufValueType.INT32: return dv.getInt32(p, true);
      case GgufValueType.FLOAT32: return dv.getFloat32(p, true);
      case GgufValueType.BOOL: return dv.getUint8(p) !== 0;
      case GgufValueType.UINT64: return dv.getBigUint64(p, true);
      case GgufValueType.INT64: return dv.getBigInt64(p, true);
      default: return dv.getFloat64(p, true);
    }
  };
  const value = (type: number): GgufReadValue => {
    if (type !== GgufValueType.ARRAY) return scalar(type);
    const itemType = u32();
    const n = u64();
    const out: GgufReadValue[] = [];
    for (let i = 0; i < n; i++) out.push(value(itemType));
    return out;
  };

  if (u32() !== GGUF_MAGIC) throw new BadFileError(name, 'is not a GGUF file (no "GGUF" magic)');
  const version = u32();
  if (version !== 3 && version !== 2) throw bad(`GGUF version ${version} is not supported (2 or 3)`);
  const nTensors = u64();
  const nKv = u64();
  const metadata = new Map<string, GgufReadValue>();
  const types = new Map<string, { type: number; itemType?: number }>();
  for (let i = 0; i < nKv; i++) {
    const key = str();
    const type = u32();
    const itemType = type === GgufValueType.ARRAY ? dv.getUint32(at, true) : undefined;
    if (metadata.has(key)) throw bad(`metadata key "${key}" appears twice`);
    metadata.set(key, value(type));
    types.set(key, { type, itemType });
  }
  const tensors: GgufReadTensor[] = [];
  for (let i = 0; i < nTensors; i++) {
    const tname = str();
    const nd = u32();
    if (nd < 1 || nd > 4) throw bad(`tensor "${tname}" has ${nd} dimensions`);
    const dims = Array.from({ length: nd }, u64);
    const typeId = u32();
    const type = TYPE_NAMES.get(typeId);
    if (!type) throw bad(`tensor "${tname}" has ggml type ${typeId}, which this reader does not decode`);
    tensors.push({ name: tname, dims, type, offset: u64() });
  }
  const alignment = typeof metadata.get('general.alignment') === 'number' ? (metadata.get('general.alignment') as number) : GGUF_DEFAULT_ALIGNMENT;
  const dataOffset = Math.ceil(at / alignment) * alignment;
  const byName = new Map(tensors.map((t) => [t.name, t]));
  for (const t of tensors) {
    if (t.offset % alignment !== 0) throw new BadFileError(name, `tensor "${t.name}" offset ${t.offset} is not a multiple of the alignment ${alignment}`);
    if (dataOffset + t.offset + tensorBytes(t.type, t.dims) > bytes.byteLength) throw new BadFileError(name, `tensor "${t.name}" lies past the end of the file`);
  }
  const get = (tname: string) => {
    const t = byName.get(tname);
    if (!t) throw new BadFileError(name, `has no tensor "${tname}"`);
    return t;
  };
  const raw = (tname: string) => {
    const t = get(tname);
    const start = dataOffset + t.offset;
    return bytes.subarray(start, start + tensorBytes(t.type, t.dims));
  };
  return {
    version, metadata, types, tensors, alignment, dataOffset, raw,
    f32: (tname) => dequantize(get(tname).type, raw(tname)),
  };
}
