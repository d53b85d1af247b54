import type { FloatArray } from './types';

/**
 * Adafactor (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost")
 * as transformers.optimization.Adafactor runs it with relative_step=False and an explicit lr
 * (transformers' Trainer with optim="adafactor" also sets scale_parameter=False).
 */
export interface AdafactorParams {
  lr: number;
  /** added to g^2 before it is averaged (1e-30) */
  eps1: number;
  /** the floor of the parameter scale when scaleParameter is on (1e-3) */
  eps2: number;
  /** the RMS an update is clipped to (1.0) */
  clipThreshold: number;
  /** beta2_t = 1 - t^decayRate (-0.8) */
  decayRate: number;
  /** first-moment decay, or null: no first moment (the default) */
  beta1: number | null;
  /** decoupled, scaled by the (parameter-scaled) lr */
  weightDecay: number;
  /** multiply lr by max(eps2, RMS(p)) */
  scaleParameter: boolean;
}

/** How many second-moment values a tensor of `shape` keeps: rows + columns for 2-D, every element for 1-D. */
export function adafactorStateLength(shape: readonly number[]): number {
  checkShape(shape);
  return shape.length === 2 ? shape[0] + shape[1] : shape[0];
}

function checkShape(shape: readonly number[]): void {
  if (!(shape.length === 1 || shape.length === 2) || shape.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    throw new RangeError(`adafactor: tensors are 1-D or 2-D with positive sizes, got [${shape.join(', ')}]`);
  }
}

const rms = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s / a.length);
};

/**
 * One Adafactor step on one tensor, in place, as transformers' `Adafactor.step` (step t is 1-based):
 *   beta2t = 1 - t^decayRate;  lr_t = lr (x max(eps2, RMS(p)) with scaleParameter)
 *   2-D (rows, cols), factored: R_i = beta2t R_i + (1 - beta2t) mean_j(g_ij^2 + eps1)   (rows)
 *                               C_j = beta2t C_j + (1 - beta2t) mean_i(g_ij^2 + eps1)   (cols)
 *                               u_ij = g_ij / sqrt(R_i / mean(R)) / sqrt(C_j)
 *   1-D (n), unfactored:        V_j = beta2t V_j + (1 - beta2t) (g_j^2 + eps1);  u_j = g_j / sqrt(V_j)
 *   u = u / max(1, RMS(u) / clipThreshold) * lr_t
 *   with beta1: m = beta1 m + (1 - beta1) u;  u = m
 *   p = p - weightDecay lr_t p - u
 * param, grad (rows * cols or n, row-major); sq: the second moment, rows then cols (2-D) or n (1-D),
 * zero before step 1 (`adafactorStateLength`); m (like param) or null.
 */
export function adafactorStep(
  param: FloatArray, grad: FloatArray, shape: readonly number[], sq: FloatArray, m: FloatArray | null, step: number, hp: AdafactorParams,
): void {
  if (!(Number.isSafeInteger(step) && step >= 1)) throw new RangeError(`adafactor: step is 1-based, got ${step}`);
  checkShape(shape);
  const factored = shape.length === 2;
  const rows = factored ? shape[0] : 1;
  const cols = factored ? shape[1] : shape[0];
  const n = rows * cols;
  if (param.length !== n || grad.length !== n) throw new RangeError(`adafactor: param and grad must hold ${n} values for shape [${shape.join(', ')}]`);
  if (sq.length !== adafactorStateLength(shape)) throw new RangeError(`adafactor: the second moment of [${shape.join(', ')}] holds ${adafactorStateLength(shape)} values, got ${sq.length}`);
  if ((hp.beta1 === null) !== (m === null) || (m && m.length !== n)) throw new RangeError('adafactor: a first moment (like param) comes with beta1, and only then');
  const beta2t = 1 - Math.pow(step, hp.decayRate);
  const lrT = hp.scaleParameter ? hp.lr * Math.max(hp.eps2, rms(param)) : hp.lr;
  const u = new Float64Array(n);
  if (factored) {
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += grad[i * cols + j] ** 2 + hp.eps1;
      sq[i] = beta2t * sq[i] + (1 - beta2t) * (s / cols);
    }
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += grad[i * cols + j] ** 2 + hp.eps1;
      sq[rows + j] = beta2t * sq[rows + j] + (1 - beta2t) * (s / rows);
    }
    let rowMean = 0;
    for (let i = 0; i < rows; i++) rowMean += sq[i];
    rowMean /= rows;
    for (let i = 0; i < rows; i++) {
      const rf = 1 / Math.sqrt(sq[i] / rowMean);
      for (let j = 0; j < cols; j++) u[i * cols + j] = grad[i * cols + j] * rf / Math.sqrt(sq[rows + j]);
    }
  } else {
    for (let j = 0; j < n; j++) {
      sq[j] = beta2t * sq[j] + (1 - beta2t) * (grad[j] ** 2 + hp.eps1);
      u[j] = grad[j] / Math.sqrt(sq[j]);
    }
  }
  const scale = lrT / Math.max(1, rms(u) / hp.clipThreshold);
  for (let k = 0; k < n; k++) {
    let d = u[k] * scale;
    if (m) {
      m[k] = hp.beta1! * m[k] + (1 - hp.beta1!) * d;
      d = m[k];
    }
    param[k] = param[k] - hp.weightDecay * lrT * param[k] - d;
  }
}
