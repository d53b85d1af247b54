import type { FloatArray } from './types';

/**
 * Sophia (Liu et al. 2023, "Sophia: A Scalable Stochastic Second-order Optimizer for Language Model
 * Pre-training"), the SophiaG variant: an EMA of gradients divided by an EMA of diagonal
 * Gauss-Newton-Bartlett Hessian estimates, clipped per coordinate.
 */
export interface SophiaParams {
  lr: number;
  /** EMA of gradients (0.965) */
  beta1: number;
  /** EMA of the Hessian estimates (0.99) */
  beta2: number;
  /** the clipping scale: a coordinate moves by the full lr once |m| >= rho h */
  rho: number;
  weightDecay: number;
}

/** The denominator's floor, as Liuhong99/Sophia sophia.py adds it (1e-15). */
export const SOPHIA_EPS = 1e-15;

/**
 * One SophiaG step on one tensor, in place, as Liuhong99/Sophia sophia.py `_single_tensor_sophiag`:
 *   p *= 1 - lr * wd
 *   m = beta1 m + (1 - beta1) g
 *   p -= lr * sign(m) * min(|m| / (rho h + 1e-15), 1)
 * where h already holds B * g_hat^2 (the paper's h_hat; sophia.py keeps g_hat^2 and multiplies by
 * its `bs` in the step instead, the same product). Before the first estimate h = 0 and the step is
 * lr * sign(m). param, grad, m, h  (n); m and h start at zero.
 */
export function sophiaStep(param: FloatArray, grad: FloatArray, m: FloatArray, h: FloatArray, hp: SophiaParams): void {
  const { lr, beta1, rho, weightDecay } = hp;
  for (let i = 0; i < param.length; i++) {
    const mi = beta1 * m[i] + (1 - beta1) * grad[i];
    m[i] = mi;
    const ratio = Math.min(Math.abs(m[i]) / (rho * h[i] + SOPHIA_EPS), 1);
    param[i] = param[i] * (1 - lr * weightDecay) - lr * Math.sign(m[i]) * ratio;
  }
}

/**
 * The Gauss-Newton-Bartlett estimate folded into the Hessian EMA (sophia.py `update_hessian`, the
 * paper's Algorithm 2): h = beta2 h + (1 - beta2) B g_hat^2, where g_hat is the gradient of the mean
 * cross-entropy of B tokens against labels sampled from the model's own softmax
 * (see ops/sample-labels.ts). h, gHat  (n).
 */
export function sophiaHessianUpdate(h: FloatArray, gHat: FloatArray, B: number, beta2: number): void {
  for (let i = 0; i < h.length; i++) h[i] = beta2 * h[i] + (1 - beta2) * B * gHat[i] * gHat[i];
}
