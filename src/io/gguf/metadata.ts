/**
 * GGUF metadata key/value pairs and their bytes. Every GGUF value type can be written, arrays
 * included (of numbers, of strings, of bools). A key is written as a gguf_string, then the u32 type
 * tag, then the value; an array is the u32 item type, the u64 count, then the items.
 *
 * Large arrays (a 262k-token vocabulary) are typed arrays or string arrays, encoded once.
 */
import { GgufValueType, type GgufValueTypeId } from './constants';

export type GgufScalarType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'u64' | 'i64' | 'f64' | 'bool' | 'string';

export type GgufValue =
  | { type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; value: number }
  | { type: 'u64' | 'i64'; value: bigint | number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  /** An array of one item type; numbers as a plain or typed array. */
  | { type: 'array'; itemType: GgufScalarType; value: readonly (number | bigint | boolean | string)[] | ArrayLike<number> };

export interface GgufKv {
  key: string;
  value: GgufValue;
}

const TYPE_ID: Record<GgufScalarType, GgufValueTypeId> = {
  u8: GgufValueType.UINT8, i8: GgufValueType.INT8, u16: GgufValueType.UINT16, i16: GgufValueType.INT16,
  u32: GgufValueType.UINT32, i32: GgufValueType.INT32, f32: GgufValueType.FLOAT32, bool: GgufValueType.BOOL,
  string: GgufValueType.STRING, u64: GgufValueType.UINT64, i64: GgufValueType.INT64, f64: GgufValueType.FLOAT64,
};
const SCALAR_BYTES: Record<Exclude<GgufScalarType, 'string'>, number> = { u8: 1, i8: 1, bool: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, u64: 8, i64: 8, f64: 8 };

/** Short constructors: `kv.u32('llama.block_count', 32)`. */
export const kv = {
  u32: (key: string, value: number): GgufKv => ({ key, value: { type: 'u32', value } }),
  i32: (key: string, value: number): GgufKv => ({ key, value: { type: 'i32', value } }),
  f32: (key: string, value: number): GgufKv => ({ key, value: { type: 'f32', value } }),
  bool: (key: string, value: boolean): GgufKv => ({ key, value: { type: 'bool', value } }),
  str: (key: string, value: string): GgufKv => ({ key, value: { type: 'string', value } }),
  strings: (key: string, value: readonly string[]): GgufKv => ({ key, value: { type: 'array', itemType: 'string', value } }),
  i32s: (key: string, value: ArrayLike<number>): GgufKv => ({ key, value: { type: 'array', itemType: 'i32', value } }),
  f32s: (key: string, value: ArrayLike<number>): GgufKv => ({ key, value: { type: 'array', itemType: 'f32', value } }),
  bools: (key: string, value: readonly boolean[]): GgufKv => ({ key, value: { type: 'array', itemType: 'bool', value } }),
};

/** A growable little-endian byte buffer for the header. */
export class ByteWriter {
  private buf = new Uint8Array(1 << 16);
  private dv = new DataView(this.buf.buffer);
  private at = 0;
  private readonly enc = new TextEncoder();

  get length(): number {
    return this.at;
  }

  private reserve(n: number): void {
    if (this.at + n <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.at + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }

  u8(v: number): void { this.reserve(1); this.dv.setUint8(this.at, v); this.at += 1; }
  i8(v: number): void { this.reserve(1); this.dv.setInt8(this.at, v); this.at += 1; }
  u16(v: number): void { this.reserve(2); this.dv.setUint16(this.at, v, true); this.at += 2; }
  i16(v: number): void { this.reserve(2); this.dv.setInt16(this.at, v, true); this.at += 2; }
  u32(v: number): void { this.reserve(4); this.dv.setUint32(this.at, v, true); this.at += 4; }
  i32(v: number): void { this.reserve(4); this.dv.setInt32(this.at, v, true); this.at += 4; }
  f32(v: number): void { this.reserve(4); this.dv.setFloat32(this.at, v, true); this.at += 4; }
  f64(v: number): void { this.reserve(8); this.dv.setFloat64(this.at, v, true); this.at += 8; }
  u64(v: bigint | number): void { this.reserve(8); this.dv.setBigUint64(this.at, BigInt(v), true); this.at += 8; }
  i64(v: bigint | number): void { this.reserve(8); this.dv.setBigInt64(this.at, BigInt(v), true); this.at += 8; }

  /** gguf_string: u64 byte length, then UTF-8 bytes (no terminator). */
  string(s: string): void {
    const bytes = this.enc.encode(s);
    this.u64(bytes.byteLength);
    this.bytes(bytes);
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.byteLength);
    this.buf.set(b, this.at);
    this.at += b.byteLength;
  }

  zeros(n: number): void {
    this.reserve(n);
    this.buf.fill(0, this.at, this.at + n);
    this.at += n;
  }

  /** The bytes written so far (a copy of exactly that length). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.at);
  }
}

function checkScalar(key: string, type: GgufScalarType, v: unknown): void {
  const bad = (what: string) => new RangeError(`gguf: metadata "${key}": ${what}, got ${String(v)}`);
  if (type === 'string') {
    if (typeof v !== 'string') throw bad('must be a string');
  } else if (type === 'bool') {
    if (typeof v !== 'boolean') throw bad('must be a boolean');
  } else if (type === 'u64' || type === 'i64') {
    if (typeof v !== 'bigint' && !Number.isSafeInteger(v)) throw bad(`${type} must be an integer`);
  } else if (type === 'f32' || type === 'f64') {
    if (typeof v !== 'number') throw bad(`${type} must be a number`);
  } else {
    const bits = SCALAR_BYTES[type] * 8;
    const signed = type.startsWith('i');
    const [lo, hi] = signed ? [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1] : [0, 2 ** bits - 1];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw bad(`${type} must be an integer in [${lo}, ${hi}]`);
  }
}

function writeScalar(w: ByteWriter, type: GgufScalarType, v: number | bigint | boolean | string): void {
  switch (type) {
    case 'u8': return w.u8(v as number);
    case 'i8': return w.i8(v as number);
    case 'u16': return w.u16(v as number);
    case 'i16': return w.i16(v as number);
    case 'u32': return w.u32(v as number);
    case 'i32': return w.i32(v as number);
    case 'f32': return w.f32(v as number);
    case 'f64': return w.f64(v as number);
    case 'u64': return w.u64(v as number | bigint);
    case 'i64': return w.i64(v as number | bigint);
    case 'bool': return w.u8(v ? 1 : 0);
    case 'string': return w.string(v as string);
  }
}

/** One key/value pair, checked, in GGUF's byte layout. */
export function writeKv(w: ByteWriter, { key, value }: GgufKv): void {
  if (!key) throw new RangeError('gguf: a metadata key must not be empty');
  w.string(key);
  if (value.type !== 'array') {
    checkScalar(key, value.type, value.value);
    w.u32(TYPE_ID[value.type]);
    writeScalar(w, value.type, value.value);
    return;
  }
  const items = value.value;
  w.u32(GgufValueType.ARRAY);
  w.u32(TYPE_ID[value.itemType]);
  w.u64(items.length);
  for (let i = 0; i < items.length; i++) {
    const v = (items as ArrayLike<number | bigint | boolean | string>)[i];
    checkScalar(`${key}[${i}]`, value.itemType, v);
    writeScalar(w, value.itemType, v);
  }
}
