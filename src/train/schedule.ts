import type { RunConfig } from '../config/run-config';

/**
 * Learning rate at optimizer step `step` (0-based) of `total` steps, as transformers' schedulers
 * compute it (`get_cosine_with_min_lr_schedule_with_warmup`, `get_linear_schedule_with_warmup`);
 * like them, warmup starts at 0 on step 0 and reaches the peak at step warmupSteps:
 * - constant: lr
 * - cosine: half a cosine from lr down to lr*minLrRatio over the run
 * - warmup-cosine: linear warmup from 0 over warmupSteps, then the cosine over the rest
 * - linear: linear warmup, then linear decay to 0 at `total`
 */
export function learningRateAt(
  c: Pick<RunConfig, 'learningRate' | 'schedule' | 'warmupSteps' | 'minLrRatio'>,
  step: number,
  total: number,
): number {
  const lr = c.learningRate;
  const warm = c.schedule === 'constant' || c.schedule === 'cosine' ? 0 : Math.min(c.warmupSteps, total);
  if (step < warm) return (lr * step) / warm;
  const span = Math.max(1, total - warm);
  const progress = Math.min(1, (step - warm) / span);
  switch (c.schedule) {
    case 'constant':
      return lr;
    case 'cosine':
    case 'warmup-cosine': {
      const min = lr * c.minLrRatio;
      return min + (lr - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
    }
    case 'linear':
      return lr * (1 - progress);
  }
}
