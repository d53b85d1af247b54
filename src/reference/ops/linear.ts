import { checkLen, type FloatArray } from '../types';

/**
 * Linear layer as torch.nn.Linear: y = x W^T + b.
 * out (N, Out)
 * x   (N, In)
 * W   (Out, In)   Hugging Face / torch layout
 * b   (Out) or null
 */
export function linearForward(
  out: FloatArray, x: FloatArray, W: FloatArray, b: FloatArray | null, N: number, In: number, Out: number,
): void {
  checkLen('linear out', out, N * Out);
  checkLen('linear x', x, N * In);
  checkLen('linear W', W, Out * In);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < Out; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < In; i++) s += x[n * In + i] * W[o * In + i];
      out[n * Out + o] = s;
    }
  }
}

/**
 * Backward of linearForward; each gradient is optional (null = not wanted) and accumulated.
 * dx   (N, In)    += dout W
 * dW   (Out, In)  += dout^T x
 * db   (Out)      += sum over rows of dout
 * dout (N, Out)
 */
export function linearBackward(
  dx: FloatArray | null, dW: FloatArray | null, db: FloatArray | null,
  dout: FloatArray, x: FloatArray, W: FloatArray, N: number, In: number, Out: number,
): void {
  checkLen('linear dout', dout, N * Out);
  if (dx) {
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < In; i++) {
        let s = 0;
        for (let o = 0; o < Out; o++) s += dout[n * Out + o] * W[o * In + i];
        dx[n * In + i] += s;
      }
    }
  }
  if (dW) {
    for (let o = 0; o < Out; o++) {
      for (let i = 0; i < In; i++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += dout[n * Out + o] * x[n * In + i];
        dW[o * In + i] += s;
      }
    }
  }
  if (db) {
    for (let o = 0; o < Out; o++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dout[n * Out + o];
      db[o] += s;
    }
  }
}
