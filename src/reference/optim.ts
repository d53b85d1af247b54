import type { FloatArray } from './types';

/** Hyper-parameters of torch.optim.AdamW (amsgrad and maximize are not supported). */
export interface AdamWParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/**
 * One AdamW step on one tensor, in place, exactly as torch.optim.AdamW (single-tensor path):
 *   p -= lr * wd * p                          decoupled weight decay, applied first
 *   m = beta1 m + (1 - beta1) g
 *   v = beta2 v + (1 - beta2) g^2
 *   denom = sqrt(v) / sqrt(1 - beta2^t) + eps
 *   p -= (lr / (1 - beta1^t)) * m / denom
 * param, grad, m, v  (n); m and v start at zero; step t is 1-based (1 on the first call).
 */
export function adamwStep(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, step: number, hp: AdamWParams): void {
  if (!(step >= 1)) throw new RangeError(`adamw: step is 1-based, got ${step}`);
  const { lr, beta1, beta2, eps, weightDecay } = hp;
  const bias1 = 1 - Math.pow(beta1, step);
  const bias2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
  const stepSize = lr / bias1;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    param[i] *= 1 - lr * weightDecay;
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    const denom = Math.sqrt(v[i]) / bias2Sqrt + eps;
    param[i] -= (stepSize * m[i]) / denom;
  }
}

/** Hyper-parameters of torch.optim.SGD (maximize is not supported). */
export interface SgdParams {
  lr: number;
  momentum: number;
  /** torch's default is 0; kept for completeness. */
  dampening: number;
  nesterov: boolean;
  /** L2 penalty added to the gradient (coupled, unlike AdamW). */
  weightDecay: number;
}

/**
 * One SGD step on one tensor, in place, exactly as torch.optim.SGD:
 *   d = g + wd * p
 *   buf = d on the first step, else momentum * buf + (1 - dampening) d
 *   d = nesterov ? d + momentum * buf : buf        (when momentum != 0)
 *   p -= lr * d
 * param, grad, buf  (n); buf is the momentum buffer (unused when momentum = 0); step is 1-based.
 */
export function sgdStep(param: FloatArray, grad: FloatArray, buf: FloatArray, step: number, hp: SgdParams): void {
  if (!(step >= 1)) throw new RangeError(`sgd: step is 1-based, got ${step}`);
  const { lr, momentum, dampening, nesterov, weightDecay } = hp;
  for (let i = 0; i < param.length; i++) {
    let d = grad[i] + weightDecay * param[i];
    if (momentum !== 0) {
      buf[i] = step === 1 ? d : momentum * buf[i] + (1 - dampening) * d;
      d = nesterov ? d + momentum * buf[i] : buf[i];
    }
    param[i] -= lr * d;
  }
}
