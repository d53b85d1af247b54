/**
 * 16-bit weights, f16 (IEEE binary16) or bf16, rounded to nearest even by the conversions of
 * src/io/safetensors/dtypes, packed two per u32 with element 2j in the low half (an odd count pads
 * a 0 high half). The GPU unpacks f16 with `unpack2x16float` and bf16 with shifts, so neither
 * needs `shader-f16`.
 */
import { bf16BitsToF32, f16BitsToF32, f32ArrayToBf16, f32ArrayToF16 } from '../../core/half';
import { packHalves, unpackHalves } from './pack';

export type HalfKind = 'f16' | 'bf16';

/** The 16-bit bit patterns of `x`. */
export function toHalfBits(x: Float32Array, kind: HalfKind): Uint16Array {
  return kind === 'f16' ? f32ArrayToF16(x) : f32ArrayToBf16(x);
}

/** ceil(n/2) words. */
export function packHalf(x: Float32Array, kind: HalfKind): Uint32Array<ArrayBuffer> {
  return packHalves(toHalfBits(x, kind));
}

/** The first `numel` values of packed words, exactly (every 16-bit value is an f32). */
export function unpackHalf(words: Uint32Array, numel: number, kind: HalfKind): Float32Array<ArrayBuffer> {
  const bits = unpackHalves(words, numel);
  const decode = kind === 'f16' ? f16BitsToF32 : bf16BitsToF32;
  const out = new Float32Array(numel);
  for (let i = 0; i < numel; i++) out[i] = decode(bits[i]);
  return out;
}

/**
 * Bound on |x - half(x)| for round to nearest: half an ulp, relative 2^-11 (f16) or 2^-8 (bf16),
 * plus f16's absolute half-ulp 2^-25 in its subnormal range. Not valid past f16's max (65504).
 */
export function halfErrorBound(x: number, kind: HalfKind): number {
  return kind === 'f16' ? Math.abs(x) * 2 ** -11 + 2 ** -25 : Math.abs(x) * 2 ** -8;
}
