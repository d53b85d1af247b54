/**
 * What a run came to, from its curve: the base model's validation loss (measured before step 1)
 * against the best one, and the training loss at the start against the end (means of 10 steps).
 * Pure, so it is tested on its own.
 */
import type { StepPoint } from '../../../worker/api';
import { meanOfLast } from '../../charts/smoothing';

export interface Outcome {
  base: number | null;
  best: { loss: number; step: number } | null;
  /** Mean training loss of the first and of the last 10 steps. */
  trainStart: number | null;
  trainEnd: number | null;
}

export function outcomeOf(points: readonly StepPoint[], base: number | null | undefined): Outcome {
  let best: Outcome['best'] = null;
  for (const p of points) {
    if (p.evalLoss !== undefined && Number.isFinite(p.evalLoss) && (!best || p.evalLoss < best.loss)) best = { loss: p.evalLoss, step: p.step };
  }
  const losses = points.map((p) => p.loss);
  return {
    base: base !== undefined && base !== null && Number.isFinite(base) ? base : null,
    best,
    trainStart: meanOfLast(losses.slice(0, 10)) ?? null,
    trainEnd: meanOfLast(losses) ?? null,
  };
}

const fix = (x: number) => x.toFixed(3);

/** The outcome in words, e.g. "validation loss 6.031 → 3.412 (best, after step 50): 43% lower than the base model". */
export function outcomeText(o: Outcome): string {
  if (o.base !== null && o.best) {
    const change = (100 * (o.base - o.best.loss)) / o.base;
    const how = change >= 0 ? `${percent(change)}% lower than the base model` : `${percent(-change)}% higher than the base model`;
    return `validation loss ${fix(o.base)} → ${fix(o.best.loss)} (best, after step ${o.best.step}): ${how}`;
  }
  if (o.best) return `best validation loss ${fix(o.best.loss)} (after step ${o.best.step})`;
  if (o.trainStart !== null && o.trainEnd !== null) {
    return `training loss ${fix(o.trainStart)} → ${fix(o.trainEnd)} (means of the first and last 10 steps); no validation loss was measured (set a validation share in Model & data and "Eval every")`;
  }
  return 'no step was trained';
}

/** A whole percentage, or one decimal near 100 (a 99.8% fall is not "100% lower": the loss is not 0). */
function percent(p: number): string {
  return p >= 99.5 && p < 100 ? p.toFixed(1) : String(Math.round(p));
}
