import type { FloatArray } from '../types';

/**
 * Global L2 norm over a set of gradient tensors: sqrt(sum of every element squared), which equals
 * torch's norm of the per-tensor norms.
 */
export function globalGradNorm(grads: Iterable<FloatArray>): number {
  let ss = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  return Math.sqrt(ss);
}

/**
 * Clip in place as torch.nn.utils.clip_grad_norm_(params, maxNorm) with the L2 norm:
 *   coef = min(maxNorm / (norm + 1e-6), 1); every gradient *= coef.
 * Returns the total norm before clipping (what torch returns and what the dashboard shows).
 */
export function clipGradNorm(grads: Iterable<FloatArray>, maxNorm: number): number {
  const list = [...grads];
  const norm = globalGradNorm(list);
  const coef = Math.min(maxNorm / (norm + 1e-6), 1);
  if (coef < 1) for (const g of list) for (let i = 0; i < g.length; i++) g[i] *= coef;
  return norm;
}
