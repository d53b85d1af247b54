/**
 * Token sequences to (B, T) micro-batches for causal-LM training. Each row holds one example,
 * truncated to T + 1 tokens and right-padded; targets are aligned (targets[t] = tokens[t + 1])
 * and -100 where the position is padding, past the end, or masked out of the loss (a prompt).
 */
import type { MicroBatch } from '../config/micro-batch';
import { dataOrder } from '../core/rng';

export const IGNORE_INDEX = -100;

export interface TokenizedExample {
  /** Token ids, with BOS/EOS already added as the model wants. */
  ids: number[];
  /** Per token: whether predicting it counts in the loss (default all). Prompt tokens are false. */
  inLoss?: boolean[];
}

/** One (T) row: tokens and aligned targets; `pad` fills the tail of tokens (never a target). */
export function exampleRow(ex: TokenizedExample, T: number, pad: number): { tokens: Int32Array; targets: Int32Array } {
  const tokens = new Int32Array(T).fill(pad);
  const targets = new Int32Array(T).fill(IGNORE_INDEX);
  const n = Math.min(ex.ids.length, T + 1);
  for (let t = 0; t < Math.min(n, T); t++) tokens[t] = ex.ids[t];
  for (let t = 0; t + 1 < n; t++) {
    if (ex.inLoss?.[t + 1] ?? true) targets[t] = ex.ids[t + 1];
  }
  return { tokens, targets };
}

/**
 * Micro-batches of one epoch in the seeded order of that epoch (the same seed and epoch give the
 * same order). A last partial micro-batch is filled with padding rows, which count nowhere.
 */
export function epochBatches(examples: readonly TokenizedExample[], B: number, T: number, pad: number, seed: number, epoch: number): MicroBatch[] {
  if (examples.length === 0) throw new RangeError('the dataset has no examples');
  const order = dataOrder(examples.length, seed, epoch);
  const batches: MicroBatch[] = [];
  for (let i = 0; i < order.length; i += B) {
    const tokens = new Int32Array(B * T).fill(pad);
    const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
    for (let b = 0; b < B && i + b < order.length; b++) {
      const row = exampleRow(examples[order[i + b]], T, pad);
      tokens.set(row.tokens, b * T);
      targets.set(row.targets, b * T);
    }
    batches.push({ tokens, targets });
  }
  return batches;
}
