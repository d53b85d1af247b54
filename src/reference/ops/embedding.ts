import { checkLen, type FloatArray } from '../types';

/**
 * Token embedding gather.
 * out    (N, C)  row n = table[tokens[n]]
 * table  (V, C)
 * tokens (N)     each in [0, V)
 */
export function embeddingForward(out: FloatArray, table: FloatArray, tokens: Int32Array, N: number, C: number, V: number): void {
  checkLen('embedding out', out, N * C);
  checkLen('embedding table', table, V * C);
  for (let n = 0; n < N; n++) {
    const t = tokens[n];
    if (!(t >= 0 && t < V)) throw new RangeError(`embedding: token ${t} at ${n} outside [0, ${V})`);
    for (let c = 0; c < C; c++) out[n * C + c] = table[t * C + c];
  }
}

/**
 * Backward of the gather: a scatter-add of the output gradient into the rows that were read.
 * Only needed for completeness (the base is frozen); a repeated token accumulates.
 * dtable (V, C)  accumulated
 * dout   (N, C)
 * tokens (N)
 */
export function embeddingBackward(dtable: FloatArray, dout: FloatArray, tokens: Int32Array, N: number, C: number): void {
  for (let n = 0; n < N; n++) {
    const t = tokens[n];
    for (let c = 0; c < C; c++) dtable[t * C + c] += dout[n * C + c];
  }
}
