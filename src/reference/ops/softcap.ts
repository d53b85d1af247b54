import { checkLen, type FloatArray } from '../types';

/**
 * tanh soft-capping (Gemma 2's attention scores and final logits): out = cap * tanh(x / cap).
 * out, x  (n), any flat shape
 */
export function softcapForward(out: FloatArray, x: FloatArray, n: number, cap: number): void {
  checkLen('softcap out', out, n);
  checkLen('softcap x', x, n);
  if (!(cap > 0)) throw new RangeError(`softcap: cap must be positive, got ${cap}`);
  for (let i = 0; i < n; i++) out[i] = cap * Math.tanh(x[i] / cap);
}

/**
 * Backward of softcapForward from its output, accumulated: dx += dout * (1 - (out / cap)^2).
 * dx, dout, out  (n)
 */
export function softcapBackward(dx: FloatArray, dout: FloatArray, out: FloatArray, n: number, cap: number): void {
  checkLen('softcap dout', dout, n);
  checkLen('softcap out', out, n);
  for (let i = 0; i < n; i++) {
    const t = out[i] / cap;
    dx[i] += dout[i] * (1 - t * t);
  }
}
