import { bf16ArrayToF32, f16ArrayToF32, f16BitsToF32 } from '../../core/half';
import { DTYPE_BYTES, type Dtype } from './dtypes';

// safetensors is little-endian and typed arrays use the platform's order; every platform a
// browser with WebGPU runs on is little-endian, so we check once instead of byte-swapping.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** float8 e4m3fn (no Inf; S.1111.111 is NaN; bias 7) as f32. */
export function f8e4m3ToF32(b: number): number {
  const sign = b & 0x80 ? -1 : 1;
  const e = (b >>> 3) & 0xf;
  const m = b & 7;
  if (e === 0xf && m === 7) return NaN;
  if (e === 0) return sign * m * 2 ** -9;
  return sign * (8 + m) * 2 ** (e - 10);
}

/** float8 e5m2 is the top byte of a binary16. */
export function f8e5m2ToF32(b: number): number {
  return f16BitsToF32((b & 0xff) << 8);
}

function lut256(f: (b: number) => number): Float32Array {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) t[b] = f(b);
  return t;
}
const luts: Partial<Record<'F8_E4M3' | 'F8_E5M2', Float32Array>> = {};

/**
 * Little-endian tensor bytes as f32 values. Integers convert by value (I64/U64 beyond 2^53 go
 * through f64 first, so they may be one f32 ulp off), BOOL gives 0/1. Never aliases `bytes`.
 */
export function decodeToF32(dtype: Dtype, bytes: Uint8Array): Float32Array {
  if (!LITTLE_ENDIAN) throw new Error('big-endian platforms are not supported');
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size !== 0) throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements`);
  const n = bytes.byteLength / size;
  // Typed views need an aligned offset; copy when the bytes sit at an odd place.
  const b = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  const view = <T>(C: new (buf: ArrayBufferLike, off: number, len: number) => T): T => new C(b.buffer, b.byteOffset, n);
  switch (dtype) {
    case 'F32':
      return new Float32Array(view(Float32Array)); // copy
    case 'F64':
      return new Float32Array(view(Float64Array));
    case 'F16':
      return f16ArrayToF32(view(Uint16Array));
    case 'BF16':
      return bf16ArrayToF32(view(Uint16Array));
    case 'F8_E4M3':
    case 'F8_E5M2': {
      const lut = (luts[dtype] ??= lut256(dtype === 'F8_E4M3' ? f8e4m3ToF32 : f8e5m2ToF32));
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = lut[b[i]];
      return out;
    }
    case 'I64':
    case 'U64': {
      const v = dtype === 'I64' ? view(BigInt64Array) : view(BigUint64Array);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = Number(v[i]);
      return out;
    }
    case 'I32':
      return new Float32Array(view(Int32Array));
    case 'U32':
      return new Float32Array(view(Uint32Array));
    case 'I16':
      return new Float32Array(view(Int16Array));
    case 'U16':
      return new Float32Array(view(Uint16Array));
    case 'I8':
      return new Float32Array(view(Int8Array));
    case 'U8':
      return new Float32Array(b);
    case 'BOOL':
      return Float32Array.from(b, (x) => (x ? 1 : 0));
  }
}
