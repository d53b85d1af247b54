import { checkLen, type FloatArray } from '../types';

/**
 * RMSNorm as Hugging Face Llama: y = x * rsqrt(mean(x^2) + eps) * w.
 * out    (N, C)
 * rstd   (N) or null   written: rsqrt(mean(x^2) + eps) per row, kept for the backward
 * inp    (N, C)
 * weight (C)
 */
export function rmsnormForward(
  out: FloatArray, rstd: FloatArray | null, inp: FloatArray, weight: FloatArray, N: number, C: number, eps: number,
): void {
  checkLen('rmsnorm out', out, N * C);
  checkLen('rmsnorm inp', inp, N * C);
  checkLen('rmsnorm weight', weight, C);
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += inp[n * C + c] * inp[n * C + c];
    const r = 1 / Math.sqrt(ss / C + eps);
    if (rstd) rstd[n] = r;
    for (let c = 0; c < C; c++) out[n * C + c] = inp[n * C + c] * r * weight[c];
  }
}

/**
 * Backward of rmsnormForward, accumulated. With r = rstd and y_c = x_c r w_c:
 *   dx_c = r w_c dy_c - x_c r^3 / C * sum_k dy_k w_k x_k
 * dinp    (N, C)
 * dweight (C) or null   += sum over rows of dy * x * r (the base is frozen, so usually null)
 * dout    (N, C)
 * inp     (N, C), weight (C), rstd (N) from the forward
 */
export function rmsnormBackward(
  dinp: FloatArray, dweight: FloatArray | null, dout: FloatArray, inp: FloatArray, weight: FloatArray,
  rstd: FloatArray, N: number, C: number,
): void {
  checkLen('rmsnorm dout', dout, N * C);
  for (let n = 0; n < N; n++) {
    const r = rstd[n];
    let dot = 0; // sum_k dy_k w_k x_k
    for (let c = 0; c < C; c++) dot += dout[n * C + c] * weight[c] * inp[n * C + c];
    const k = (dot * r * r * r) / C;
    for (let c = 0; c < C; c++) {
      const j = n * C + c;
      dinp[j] += r * weight[c] * dout[j] - inp[j] * k;
      if (dweight) dweight[c] += dout[j] * inp[j] * r;
    }
  }
}
