/**
 * Symmetric blockwise int8: blocks of 64 consecutive elements of the row-major flattened tensor,
 * one f32 absmax per block, `q = round(x / absmax * 127)` of the exact quotient (half away from zero,
 * so q(-x) = -q(x)), within [-127, 127]; an all-zero block stores absmax 0 and q = 0.
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
      const a = Math.abs(x[i]);
      // round(127 a / m) half away from zero, of the exact quotient: k = floor of the f64 estimate
      // (never off by a whole step), then one exact comparison (254 a and (2k + 1) m are exact in
      // f64), so a tie is never lost to the rounding of a / m. The GPU quantizer computes the same.
      const k = Math.floor((a / m) * 127);
      const mag = Math.min(127, 254 * a >= (2 * k + 1) * m ? k + 1 : k);
      q[i] = x[i] < 0 ? -mag : mag;
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
