import { f32ToBf16Bits, f32ToF16Bits } from '../../core/half';
/**
 * The merged weight of one linear layer, W' = W + sum_t coef_t * B_t A_t, one output row at a time:
 * the row is summed in float64 and rounded once into the output (f32, or f32 then bf16 / f16, as a
 * 16-bit checkpoint of the f32 merge would be). No dense delta matrix is ever made: besides the
 * base tensor and the output, only one row of scratch.
 */

export type MergeDtype = 'BF16' | 'F16' | 'F32';

/** One low-rank term: coef * B (out, r) A (r, in). */
export interface DeltaTerm {
  A: Float32Array;
  B: Float32Array;
  r: number;
  coef: number;
  /**
   * DoRA (the module's only term): lora_magnitude_vector (out). The merged row is then
   * m[o] * (W + coef B A)_o / ||(W + coef B A)_o||, as PEFT's merge computes it.
   */
  magnitude?: Float32Array;
}

/** The output array of a tensor of n elements in dtype. */
export function outputArray(dtype: MergeDtype, n: number): Float32Array | Uint16Array {
  return dtype === 'F32' ? new Float32Array(n) : new Uint16Array(n);
}

/** W (out, in) + the terms, written into dst (out * in) in dtype. */
export function mergeLinear(dst: Float32Array | Uint16Array, dtype: MergeDtype, W: Float32Array, out: number, inF: number, terms: readonly DeltaTerm[]): void {
  for (const t of terms) {
    if (t.A.length !== t.r * inF || t.B.length !== out * t.r) throw new RangeError(`merge: a LoRA term of rank ${t.r} does not fit a [${out}, ${inF}] weight`);
    if (t.magnitude && (t.magnitude.length !== out || terms.length !== 1)) throw new RangeError(`merge: a DoRA term needs a magnitude of ${out} values and must be the module's only term`);
  }
  const magnitude = terms[0]?.magnitude;
  const row = new Float64Array(inF);
  for (let o = 0; o < out; o++) {
    const base = o * inF;
    for (let j = 0; j < inF; j++) row[j] = W[base + j];
    for (const { A, B, r, coef } of terms) {
      for (let k = 0; k < r; k++) {
        const c = coef * B[o * r + k];
        if (c === 0) continue;
        const a = k * inF;
        for (let j = 0; j < inF; j++) row[j] += c * A[a + j];
      }
    }
    if (magnitude) {
      let ss = 0;
      for (let j = 0; j < inF; j++) ss += row[j] * row[j];
      const f = magnitude[o] / Math.sqrt(ss);
      for (let j = 0; j < inF; j++) row[j] *= f;
    }
    storeRow(dst, dtype, base, row);
  }
}

/** A tensor without adapter, converted to dtype. */
export function convertTensor(dst: Float32Array | Uint16Array, dtype: MergeDtype, W: Float32Array): void {
  if (dtype === 'F32') (dst as Float32Array).set(W);
  else storeRow(dst, dtype, 0, W);
}

function storeRow(dst: Float32Array | Uint16Array, dtype: MergeDtype, at: number, row: ArrayLike<number>): void {
  const n = row.length;
  if (dtype === 'F32') {
    for (let j = 0; j < n; j++) dst[at + j] = row[j];
  } else if (dtype === 'BF16') {
    for (let j = 0; j < n; j++) dst[at + j] = f32ToBf16Bits(row[j]); // rounds to f32 first, then to bf16
  } else {
    for (let j = 0; j < n; j++) dst[at + j] = f32ToF16Bits(row[j]);
  }
}
