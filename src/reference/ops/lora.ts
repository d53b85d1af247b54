import type { DropoutMask } from '../../core/rng';
import { checkLen, type FloatArray } from '../types';


/** The multiplier of input element j under a mask (1 without dropout). */
function dropScale(mask: DropoutMask | null): number {
  if (!mask) return 1;
  if (!(mask.p >= 0 && mask.p < 1)) throw new RangeError(`dropout p must be in [0, 1), got ${mask.p}`);
  return 1 / (1 - mask.p);
}

/**
 * LoRA branch of a linear layer, added onto the base output (PEFT's `lora_B(lora_A(dropout(x))) * scaling`):
 * out (N, Out)  += scale * h B^T
 * h   (N, R)    written: h = dropout(x) A^T, kept for the backward
 * x   (N, In)
 * A   (R, In)   lora_A.weight
 * B   (Out, R)  lora_B.weight
 * mask          keep flags over (N, In), or null for no dropout
 */
export function loraForward(
  out: FloatArray, h: FloatArray, x: FloatArray, A: FloatArray, B: FloatArray, scale: number,
  mask: DropoutMask | null, N: number, In: number, R: number, Out: number,
): void {
  checkLen('lora out', out, N * Out);
  checkLen('lora h', h, N * R);
  checkLen('lora A', A, R * In);
  checkLen('lora B', B, Out * R);
  if (mask) checkLen('lora mask', mask.keep, N * In);
  const ds = dropScale(mask);
  for (let n = 0; n < N; n++) {
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let i = 0; i < In; i++) {
        const j = n * In + i;
        const xd = mask ? (mask.keep[j] ? x[j] * ds : 0) : x[j];
        s += xd * A[r * In + i];
      }
      h[n * R + r] = s;
    }
    for (let o = 0; o < Out; o++) {
      let s = 0;
      for (let r = 0; r < R; r++) s += h[n * R + r] * B[o * R + r];
      out[n * Out + o] += scale * s;
    }
  }
}

/**
 * Backward of loraForward; every gradient is optional and accumulated.
 * dx   (N, In)   += dropout'(scale * dout B A)   the LoRA path's share of the input gradient
 * dA   (R, In)   += (scale * dout B)^T dropout(x)
 * dB   (Out, R)  += scale * dout^T h
 * dout (N, Out)  gradient of the layer output
 * h    (N, R)    from loraForward
 */
export function loraBackward(
  dx: FloatArray | null, dA: FloatArray | null, dB: FloatArray | null,
  dout: FloatArray, x: FloatArray, h: FloatArray, A: FloatArray, B: FloatArray, scale: number,
  mask: DropoutMask | null, N: number, In: number, R: number, Out: number,
): void {
  checkLen('lora dout', dout, N * Out);
  const ds = dropScale(mask);
  const dh = new Float64Array(R); // (R) gradient of h for one row
  for (let n = 0; n < N; n++) {
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let o = 0; o < Out; o++) s += dout[n * Out + o] * B[o * R + r];
      dh[r] = scale * s;
    }
    if (dB) {
      for (let o = 0; o < Out; o++) {
        const g = scale * dout[n * Out + o];
        for (let r = 0; r < R; r++) dB[o * R + r] += g * h[n * R + r];
      }
    }
    for (let i = 0; i < In; i++) {
      const j = n * In + i;
      const m = mask ? (mask.keep[j] ? ds : 0) : 1; // d dropout(x) / dx
      if (dA && m !== 0) {
        const xd = x[j] * m;
        for (let r = 0; r < R; r++) dA[r * In + i] += dh[r] * xd;
      }
      if (dx && m !== 0) {
        let s = 0;
        for (let r = 0; r < R; r++) s += dh[r] * A[r * In + i];
        dx[j] += s * m;
      }
    }
  }
}
