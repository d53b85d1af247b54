import type { FloatArray } from './types';

/** Hyper-parameters of Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"). */
export interface LionParams {
  lr: number;
  beta1: number;
  beta2: number;
  weightDecay: number;
}

/**
 * One Lion step on one tensor, in place, as lucidrains/lion-pytorch `update_fn` (the paper's
 * Algorithm 2, with its decoupled weight decay):
 *   p *= 1 - lr * wd
 *   p -= lr * sign(beta1 m + (1 - beta1) g)          sign(0) = 0, as torch.sign
 *   m = beta2 m + (1 - beta2) g
 * param, grad, m  (n); m starts at zero. Every update has size lr per coordinate, which is why Lion
 * takes a learning rate 3-10x smaller than AdamW's.
 */
export function lionStep(param: FloatArray, grad: FloatArray, m: FloatArray, hp: LionParams): void {
  const { lr, beta1, beta2, weightDecay } = hp;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    const c = beta1 * m[i] + (1 - beta1) * g;
    param[i] = param[i] * (1 - lr * weightDecay) - lr * Math.sign(c);
    m[i] = beta2 * m[i] + (1 - beta2) * g;
  }
}
