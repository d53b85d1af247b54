/**
 * ggml's tensor encodings this project writes, byte for byte as llama.cpp's reference
 * quantizers (ggml-quants.c, quantize_row_q8_0_ref / quantize_row_q4_0_ref) produce them. All
 * arithmetic is single precision as in C: every intermediate goes through Math.fround, and f32 ->
 * f16 rounds to nearest even (GGML_FP32_TO_FP16).
 *
 * Q8_0, per block of 32 values x[0..31] (34 bytes):
 *   amax = max |x|;  d = amax / 127;  id = d ? 1/d : 0
 *   bytes 0-1: f16(d);  bytes 2+j: int8 roundf(x[j] * id)      (roundf: halves away from zero)
 * Q4_0, per block of 32 values (18 bytes):
 *   max = the value of largest magnitude (the first one on ties), sign kept;  d = max / -8;  id = d ? 1/d : 0
 *   q[j] = min(15, trunc(x[j] * id + 8.5))  (0..15)
 *   bytes 0-1: f16(d);  byte 2+j: q[j] | q[j + 16] << 4   (values 0-15 in the low nibbles, 16-31 in the high)
 * Q5_0 (quantize_row_q5_0_ref), per block of 32 values (22 bytes): as Q4_0 with d = max / -16 and
 *   q[j] = min(31, trunc(x[j] * id + 16.5)) (0..31); bytes 2-5: u32 qh whose bit j (j < 16) is bit 4 of
 *   q[j] and bit j + 16 is bit 4 of q[j + 16]; bytes 6+j: the low nibbles as Q4_0 packs them.
 * Dequantized: Q8_0 x = f16(d) * q;  Q4_0 x = f16(d) * (q - 8);  Q5_0 x = f16(d) * (q - 16).
 * The K-quants of the Q4_K_M mix (Q4_K, Q6_K) are in ./quantize-k.ts.
 */
import { f16BitsToF32, f32ToF16Bits } from '../../core/half';
import { BLOCK, type WrittenGgmlType } from './constants';
import { dequantizeQ4_K, dequantizeQ6_K, quantizeQ4_K, quantizeQ6_K } from './quantize-k';

const fr = Math.fround;
const roundf = (v: number) => (v < 0 ? -Math.floor(-v + 0.5) : Math.floor(v + 0.5));

function checkBlocks(type: 'Q8_0' | 'Q4_0' | 'Q5_0', n: number): number {
  if (n % 32 !== 0) throw new RangeError(`${type}: ${n} values is not a whole number of 32-value blocks`);
  return n / 32;
}

/** x (n, a multiple of 32) -> n/32 blocks of 34 bytes. */
export function quantizeQ8_0(x: ArrayLike<number>): Uint8Array {
  const nb = checkBlocks('Q8_0', x.length);
  const out = new Uint8Array(nb * BLOCK.Q8_0.bytes);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    const base = b * 32;
    let amax = 0;
    for (let j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(fr(x[base + j])));
    const d = fr(amax / 127);
    const id = d ? fr(1 / d) : 0;
    const o = b * 34;
    dv.setUint16(o, f32ToF16Bits(d), true);
    for (let j = 0; j < 32; j++) dv.setInt8(o + 2 + j, roundf(fr(fr(x[base + j]) * id)));
  }
  return out;
}

/** x (n, a multiple of 32) -> n/32 blocks of 18 bytes. */
export function quantizeQ4_0(x: ArrayLike<number>): Uint8Array {
  const nb = checkBlocks('Q4_0', x.length);
  const out = new Uint8Array(nb * BLOCK.Q4_0.bytes);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    const base = b * 32;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = fr(x[base + j]);
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fr(max / -8);
    const id = d ? fr(1 / d) : 0;
    const o = b * 18;
    dv.setUint16(o, f32ToF16Bits(d), true);
    const q = (v: number) => Math.min(15, Math.trunc(fr(fr(fr(v) * id) + 8.5)));
    for (let j = 0; j < 16; j++) out[o + 2 + j] = q(x[base + j]) | (q(x[base + 16 + j]) << 4);
  }
  return out;
}

/** x (n, a multiple of 32) -> n/32 blocks of 22 bytes. */
export function quantizeQ5_0(x: ArrayLike<number>): Uint8Array {
  const nb = checkBlocks('Q5_0', x.length);
  const out = new Uint8Array(nb * BLOCK.Q5_0.bytes);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    const base = b * 32;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < 32; j++) {
      const v = fr(x[base + j]);
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fr(max / -16);
    const id = d ? fr(1 / d) : 0;
    const o = b * 22;
    dv.setUint16(o, f32ToF16Bits(d), true);
    const q = (v: number) => Math.min(31, Math.trunc(fr(fr(fr(v) * id) + 16.5)));
    let qh = 0;
    for (let j = 0; j < 16; j++) {
      const q0 = q(x[base + j]);
      const q1 = q(x[base + 16 + j]);
      out[o + 6 + j] = (q0 & 0x0f) | ((q1 & 0x0f) << 4);
      qh |= ((q0 & 0x10) >> 4) << j;
      qh |= ((q1 & 0x10) >> 4) << (j + 16);
    }
    dv.setUint32(o + 2, qh >>> 0, true);
  }
  return out;
}

/** f32 values as IEEE half bits, little-endian. */
export function encodeF16(x: ArrayLike<number>): Uint8Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = f32ToF16Bits(x[i]);
  return new Uint8Array(out.buffer);
}

/** f32 values as little-endian bytes (a view when `x` is already a Float32Array). */
export function encodeF32(x: ArrayLike<number>): Uint8Array {
  const f = x instanceof Float32Array ? x : Float32Array.from(x);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}

const asF32 = (x: ArrayLike<number>) => (x instanceof Float32Array ? x : Float32Array.from(x));

/** A tensor's f32 values in one of the written encodings. */
export function encodeTensor(type: WrittenGgmlType, x: ArrayLike<number>): Uint8Array {
  switch (type) {
    case 'F32': return encodeF32(x);
    case 'F16': return encodeF16(x);
    case 'Q8_0': return quantizeQ8_0(x);
    case 'Q4_0': return quantizeQ4_0(x);
    case 'Q5_0': return quantizeQ5_0(x);
    case 'Q4_K': return quantizeQ4_K(asF32(x));
    case 'Q6_K': return quantizeQ6_K(asF32(x));
  }
}

/** The f32 values llama.cpp reads from a tensor's bytes. */
export function dequantize(type: WrittenGgmlType, bytes: Uint8Array): Float32Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === 'F32') {
    const out = new Float32Array(bytes.byteLength / 4);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(4 * i, true);
    return out;
  }
  if (type === 'F16') {
    const out = new Float32Array(bytes.byteLength / 2);
    for (let i = 0; i < out.length; i++) out[i] = f16BitsToF32(dv.getUint16(2 * i, true));
    return out;
  }
  if (type === 'Q4_K') return dequantizeQ4_K(bytes);
  if (type === 'Q6_K') return dequantizeQ6_K(bytes);
  const { bytes: bb } = BLOCK[type];
  const nb = bytes.byteLength / bb;
  const out = new Float32Array(nb * 32);
  for (let b = 0; b < nb; b++) {
    const o = b * bb;
    const d = f16BitsToF32(dv.getUint16(o, true));
    if (type === 'Q8_0') {
      for (let j = 0; j < 32; j++) out[b * 32 + j] = fr(dv.getInt8(o + 2 + j) * d);
    } else if (type === 'Q5_0') {
      const qh = dv.getUint32(o + 2, true);
      for (let j = 0; j < 16; j++) {
        const q = bytes[o + 6 + j];
        out[b * 32 + j] = fr((((q & 0x0f) | (((qh >>> j) << 4) & 0x10)) - 16) * d);
        out[b * 32 + 16 + j] = fr((((q >> 4) | ((qh >>> (j + 12)) & 0x10)) - 16) * d);
      }
    } else {
      for (let j = 0; j < 16; j++) {
        const q = bytes[o + 2 + j];
        out[b * 32 + j] = fr(((q & 0x0f) - 8) * d);
        out[b * 32 + 16 + j] = fr(((q >> 4) - 8) * d);
      }
    }
  }
  return out;
}
