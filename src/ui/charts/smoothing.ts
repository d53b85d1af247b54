/**
 * The smoothed loss: an exponential moving average debiased as TensorBoard does, so the first
 * points are not pulled towards zero. weight 0 = raw, 0.99 = very smooth.
 */
export function ema(values: ArrayLike<number>, weight: number): Float64Array {
  const w = Math.min(Math.max(weight, 0), 0.999);
  const out = new Float64Array(values.length);
  let acc = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) { out[i] = NaN; continue; }
    acc = acc * w + (1 - w) * v;
    n++;
    out[i] = w === 0 ? v : acc / (1 - w ** n);
  }
  return out;
}

/** Seconds left from the pace so far; null before there is a pace. */
export function etaMs(step: number, total: number, elapsedMs: number): number | null {
  if (step <= 0 || total <= step) return total <= step && step > 0 ? 0 : null;
  return ((total - step) * elapsedMs) / step;
}

/** The last value of the debiased EMA of `values` (undefined entries skipped): a figure that does not swing step to step. */
export function smoothedLast(values: readonly (number | undefined)[], weight = 0.9): number | undefined {
  const finite = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (!finite.length) return undefined;
  const s = ema(finite, weight);
  return s[s.length - 1];
}

/** Mean of the last `n` finite values. */
export function meanOfLast(values: readonly number[], n = 10): number | undefined {
  const finite = values.filter((v) => Number.isFinite(v)).slice(-n);
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : undefined;
}
