import { checkLen, type FloatArray } from '../types';

/**
 * RMSNorm as Hugging Face Llama: y = x * rsqrt(mean(x^2) + eps) * w; with `plusOne` (Gemma, whose
 * checkpoints store w - 1) y = x * rsqrt(mean(x^2) + eps) * (1 + w).
 * out    (N, C)
 * rstd   (N) or null   written: rsqrt(mean(x^2) + eps) per row, kept for the backward
 * inp    (N, C)
 * weight (C)
 */
export function rmsnormForward(
  out: FloatArray, rstd: FloatArray | null, inp: FloatArray, weight: FloatArray, N: number, C: number, eps: number,
  plusOne = false,
): void {
  checkLen('rmsnorm out', out, N * C);
  checkLen('rmsnorm inp', inp, N * C);
  checkLen('rmsnorm weight', weight, C);
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += inp[n * C + c] * inp[n * C + c];
    const r = 1 / Math.sqrt(ss / C + eps);
    if (rstd) rstd[n] = r;
    if (plusOne) for (let c = 0; c < C; c++) out[n * C + c] = inp[n * C + c] * r * (1 + weight[c]);
    else for (let c = 0; c < C; c++) out[n * C + c] = inp[n * C + c] * r * weight[c];
  }
}

/**
 * Backward of rmsnormForward, accumulated. With r = rstd, g_c = w_c (or 1 + w_c with `plusOne`)
 * and y_c = x_c r g_c:
 *   dx_c = r g_c dy_c - x_c r^3 / C * sum_k dy_k g_k x_k
 * dweight is the same either way (dg/dw = 1).
 * dinp    (N, C)
 * dweight (C) or null   += sum over rows of dy * x * r (the base is frozen, so usually null)
 * dout    (N, C)
 * inp     (N, C), weight (C), rstd (N) from the forward
 */
export function rmsnormBackward(
  dinp: FloatArray, dweight: FloatArray | null, dout: FloatArray, inp: FloatArray, weight: FloatArray,
  rstd: FloatArray, N: number, C: number, plusOne = false,
): void {
  checkLen('rmsnorm dout', dout, N * C);
  const g = (c: number): number => (plusOne ? 1 + weight[c] : weight[c]);
  for (let n = 0; n < N; n++) {
    const r = rstd[n];
    let dot = 0; // sum_k dy_k g_k x_k
    for (let c = 0; c < C; c++) dot += dout[n * C + c] * g(c) * inp[n * C + c];
    const k = (dot * r * r * r) / C;
    for (let c = 0; c < C; c++) {
      const j = n * C + c;
      dinp[j] += r * g(c) * dout[j] - inp[j] * k;
      if (dweight) dweight[c] += dout[j] * inp[j] * r;
    }
  }
}
