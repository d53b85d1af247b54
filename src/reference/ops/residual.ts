import { checkLen, type FloatArray } from '../types';

/**
 * Residual connection: out = a + b.
 * out, a, b  (N)   out may alias a
 */
export function residualForward(out: FloatArray, a: FloatArray, b: FloatArray, N: number): void {
  checkLen('residual out', out, N);
  for (let i = 0; i < N; i++) out[i] = a[i] + b[i];
}

/**
 * Backward of residualForward, accumulated: the gradient flows unchanged into both branches.
 * da, db, dout  (N); either gradient may be null
 */
export function residualBackward(da: FloatArray | null, db: FloatArray | null, dout: FloatArray, N: number): void {
  for (let i = 0; i < N; i++) {
    if (da) da[i] += dout[i];
    if (db) db[i] += dout[i];
  }
}
