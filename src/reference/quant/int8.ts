/**
 * Symmetric blockwise int8: blocks of 64 consecutive elements of the row-major flattened tensor,
 * one f32 absmax per block, `q = round(x / absmax * 127)` (half away from zero, so q(-x) = -q(x)),
 * clamped to [-127, 127]; an all-zero block stores absmax 0 and q = 0.
 * Dequantization: `q * (absmax / 127)` in float32. The GPU computes the same expression, but WGSL
 * division is only accurate to 2.5 ulp, so GPU and CPU may differ by a few ulp of the weight.
 * GPU layout: the q bytes (two's complement) packed four per u32, little-endian (see ./pack).
 */
export const INT8_BLOCK = 64;

export interface Int8Tensor {
  numel: number;
  /** (numel) */
  q: Int8Array;
  /** (ceil(numel/64)) */
  absmax: Float32Array<ArrayBuffer>;
}

const f = Math.fround;

export function quantizeInt8(x: Float32Array): Int8Tensor {
  const n = x.length;
  const absmax = new Float32Array(Math.ceil(n / INT8_BLOCK));
  const q = new Int8Array(n);
  for (let b = 0; b < absmax.length; b++) {
    const start = b * INT8_BLOCK;
    const end = Math.min(n, start + INT8_BLOCK);
    let m = 0;
    for (let i = start; i < end; i++) m = Math.max(m, Math.abs(x[i]));
    absmax[b] = m;
    if (m === 0) continue;
    for (let i = start; i < end; i++) {
      const s = (x[i] / m) * 127;
      q[i] = Math.max(-127, Math.min(127, Math.sign(s) * Math.round(Math.abs(s))));
    }
  }
  return { numel: n, q, absmax };
}

export function dequantizeInt8(t: Int8Tensor): Float32Array<ArrayBuffer> {
  const out = new Float32Array(t.numel);
  for (let i = 0; i < t.numel; i++) out[i] = t.q[i] * f(t.absmax[Math.floor(i / INT8_BLOCK)] / 127);
  return out;
}

/** Largest |x - dequant(x)| for a block with this absmax: half a step, plus float32 rounding. */
export function int8ErrorBound(absmax: number): number {
  return (absmax / 127) * 0.5 + absmax * 2 ** -22;
}
