import { checkLen, type FloatArray } from '../types';

/**
 * Column sums, accumulated: out (C) += sum over the N rows of inp (N, C). The gradient of a bias
 * added to every row (a linear's b: d b = sum over the tokens of dy).
 */
export function columnSum(out: FloatArray, inp: FloatArray, N: number, C: number): void {
  checkLen('column sum out', out, C);
  checkLen('column sum inp', inp, N * C);
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let n = 0; n < N; n++) s += inp[n * C + c];
    out[c] += s;
  }
}
