import { checkLen, type FloatArray } from '../types';

/** The label that excludes a position from the loss (torch's default `ignore_index`). */
export const IGNORE_INDEX = -100;

/**
 * Masked mean cross-entropy, as torch.nn.functional.cross_entropy(reduction='mean', ignore_index=-100):
 *   loss = sum over rows with target != -100 of (logsumexp(logits_n) - logits_n[target_n]) / count.
 * Targets are already aligned: targets[n] is the label of row n (no shift here).
 * lse     (N) or null   written: per-row logsumexp (also for ignored rows), kept for the backward
 * logits  (N, V)
 * targets (N)           in [0, V) or -100
 * Returns the loss and the number of counted rows. With no counted row torch gives NaN; we give 0
 * so that a fully masked batch contributes nothing (the backward then yields zero gradients).
 */
export function crossEntropyForward(
  lse: FloatArray | null, logits: FloatArray, targets: Int32Array, N: number, V: number,
): { loss: number; count: number } {
  checkLen('cross-entropy logits', logits, N * V);
  checkLen('cross-entropy targets', targets, N);
  let total = 0;
  let count = 0;
  for (let n = 0; n < N; n++) {
    const l = rowLogSumExp(logits, n, V);
    if (lse) lse[n] = l;
    const t = targets[n];
    if (t === IGNORE_INDEX) continue;
    if (!(t >= 0 && t < V)) throw new RangeError(`cross-entropy: target ${t} at row ${n} outside [0, ${V})`);
    total += l - logits[n * V + t];
    count++;
  }
  return { loss: count > 0 ? total / count : 0, count };
}

/**
 * Backward of crossEntropyForward, accumulated:
 *   dlogits_n = dloss * (softmax(logits_n) - onehot(target_n)) / count   for counted rows, 0 otherwise.
 * dlogits (N, V); logits (N, V); lse (N) from the forward; targets (N); dloss the upstream scalar (1).
 */
export function crossEntropyBackward(
  dlogits: FloatArray, logits: FloatArray, lse: FloatArray, targets: Int32Array, N: number, V: number, dloss = 1,
): void {
  let count = 0;
  for (let n = 0; n < N; n++) if (targets[n] !== IGNORE_INDEX) count++;
  if (count === 0) return;
  const g = dloss / count;
  for (let n = 0; n < N; n++) {
    const t = targets[n];
    if (t === IGNORE_INDEX) continue;
    for (let v = 0; v < V; v++) {
      const p = Math.exp(logits[n * V + v] - lse[n]);
      dlogits[n * V + v] += g * (p - (v === t ? 1 : 0));
    }
  }
}

/** logsumexp of row n, shifted by the row max for stability. */
function rowLogSumExp(logits: FloatArray, n: number, V: number): number {
  let max = -Infinity;
  for (let v = 0; v < V; v++) if (logits[n * V + v] > max) max = logits[n * V + v];
  let s = 0;
  for (let v = 0; v < V; v++) s += Math.exp(logits[n * V + v] - max);
  return max + Math.log(s);
}
