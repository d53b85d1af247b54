import type { DropoutMask } from '../../core/rng';
import { checkLen, type FloatArray } from '../types';

/**
 * DoRA (Liu et al. 2024) as PEFT computes it (peft/tuners/lora/dora.py, DoraLinearLayer):
 *   norm_o = || W_o + scale (B A)_o ||      one L2 norm per output row of the (Out, In) weight
 *   c_o    = m_o / norm_o                   m: lora_magnitude_vector (Out)
 *   y      = x W^T + b + (c - 1) (xd W^T) + c scale (xd A^T) B^T,   xd = dropout(x)
 * PEFT detaches the norm (section 4.3 of the paper): the backward treats norm as a constant, so
 * A and B get gradients only through the LoRA path and m through c.
 */

/** The multiplier of a kept input element (1 without dropout). */
function dropScale(mask: DropoutMask | null): number {
  if (!mask) return 1;
  if (!(mask.p >= 0 && mask.p < 1)) throw new RangeError(`dropout p must be in [0, 1), got ${mask.p}`);
  return 1 / (1 - mask.p);
}

/** xd (N, In) = dropout(x), or x itself without a mask. */
function dropped(x: FloatArray, mask: DropoutMask | null): ArrayLike<number> {
  if (!mask) return x;
  const ds = dropScale(mask);
  const out = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) out[j] = mask.keep[j] ? x[j] * ds : 0;
  return out;
}

/**
 * norm (Out) = per-row L2 norm of W + scale * B A.
 * W (Out, In), A (R, In), B (Out, R).
 */
export function doraWeightNorm(
  norm: FloatArray, W: FloatArray, A: FloatArray, B: FloatArray, scale: number, In: number, R: number, Out: number,
): void {
  checkLen('dora norm', norm, Out);
  checkLen('dora W', W, Out * In);
  checkLen('dora A', A, R * In);
  checkLen('dora B', B, Out * R);
  for (let o = 0; o < Out; o++) {
    let s = 0;
    for (let i = 0; i < In; i++) {
      let ba = 0;
      for (let r = 0; r < R; r++) ba += B[o * R + r] * A[r * In + i];
      const w = W[o * In + i] + scale * ba;
      s += w * w;
    }
    norm[o] = Math.sqrt(s);
  }
}

/**
 * DoRA's addition onto the base output out (N, Out) = x W^T + b:
 *   out += (c - 1) (xd W^T) + c scale h B^T,  h (N, R) = xd A^T written for the backward.
 * m (Out) the magnitude, norm (Out) from doraWeightNorm; mask: keep flags over (N, In) or null.
 */
export function doraForward(
  out: FloatArray, h: FloatArray, x: FloatArray, W: FloatArray, A: FloatArray, B: FloatArray, m: FloatArray, norm: FloatArray,
  scale: number, mask: DropoutMask | null, N: number, In: number, R: number, Out: number,
): void {
  checkLen('dora out', out, N * Out);
  checkLen('dora h', h, N * R);
  checkLen('dora m', m, Out);
  if (mask) checkLen('dora mask', mask.keep, N * In);
  const xd = dropped(x, mask);
  for (let n = 0; n < N; n++) {
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let i = 0; i < In; i++) s += xd[n * In + i] * A[r * In + i];
      h[n * R + r] = s;
    }
    for (let o = 0; o < Out; o++) {
      let base = 0;
      for (let i = 0; i < In; i++) base += xd[n * In + i] * W[o * In + i];
      let l = 0;
      for (let r = 0; r < R; r++) l += h[n * R + r] * B[o * R + r];
      const c = m[o] / norm[o];
      out[n * Out + o] += (c - 1) * base + c * scale * l;
    }
  }
}

/**
 * Backward of doraForward with the norm held constant; every gradient accumulates.
 *   dm   (Out)     += sum_n dout * (xd W^T + scale h B^T) / norm
 *   dB   (Out, R)  += scale (c dout)^T h
 *   dA   (R, In)   += dh^T xd,   dh = scale (c dout) B
 *   dx   (N, In)   += dropout'( ((c - 1) dout) W + dh A )    (the base path's dout W is not included)
 */
export function doraBackward(
  dx: FloatArray | null, dA: FloatArray | null, dB: FloatArray | null, dm: FloatArray | null,
  dout: FloatArray, x: FloatArray, h: FloatArray, W: FloatArray, A: FloatArray, B: FloatArray, m: FloatArray, norm: FloatArray,
  scale: number, mask: DropoutMask | null, N: number, In: number, R: number, Out: number,
): void {
  checkLen('dora dout', dout, N * Out);
  const ds = dropScale(mask);
  const xd = dropped(x, mask);
  const dh = new Float64Array(R);
  const dxd = new Float64Array(In);
  for (let n = 0; n < N; n++) {
    dh.fill(0);
    dxd.fill(0);
    for (let o = 0; o < Out; o++) {
      const g = dout[n * Out + o];
      const c = m[o] / norm[o];
      if (dm) {
        let base = 0;
        for (let i = 0; i < In; i++) base += xd[n * In + i] * W[o * In + i];
        let l = 0;
        for (let r = 0; r < R; r++) l += h[n * R + r] * B[o * R + r];
        dm[o] += (g * (base + scale * l)) / norm[o];
      }
      const gc = scale * c * g; // gradient of (h B^T) at (n, o)
      for (let r = 0; r < R; r++) {
        dh[r] += gc * B[o * R + r];
        if (dB) dB[o * R + r] += gc * h[n * R + r];
      }
      if (dx) {
        const gb = (c - 1) * g;
        for (let i = 0; i < In; i++) dxd[i] += gb * W[o * In + i];
      }
    }
    for (let i = 0; i < In; i++) {
      const j = n * In + i;
      if (dA) for (let r = 0; r < R; r++) dA[r * In + i] += dh[r] * xd[j];
      if (dx) {
        const keep = mask ? (mask.keep[j] ? ds : 0) : 1;
        if (keep === 0) continue;
        let s = dxd[i];
        for (let r = 0; r < R; r++) s += dh[r] * A[r * In + i];
        dx[j] += s * keep;
      }
    }
  }
}
