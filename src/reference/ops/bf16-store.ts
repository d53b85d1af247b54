import { bf16BitsToF32, f32ToBf16Bits } from '../../core/half';
import type { FloatArray } from '../types';

/**
 * Round `a` to bfloat16 in place (round to nearest even, NaN stays NaN, as core/half.ts): what an
 * activation becomes when it is stored as bf16 (`activationPrecision: 'bf16'`). Every reader of the
 * stored activation, in the forward and in the backward, then sees exactly these values
 * (shaders/bf16_store.wgsl does the same on the GPU). A float64 array is first rounded to f32.
 */
export function roundToBf16(a: FloatArray, n: number = a.length): void {
  for (let i = 0; i < n; i++) a[i] = bf16BitsToF32(f32ToBf16Bits(a[i]));
}
