/**
 * Mean loss and perplexity of a dataset: every example one row (cut to T + 1 tokens, as training
 * cuts it), the loss tokens scored (prompt tokens stay masked when the data masks them), summed
 * over all scored tokens: mean_loss = sum of NLL / tokens, perplexity = exp(mean_loss). Token-
 * weighted, unlike the trainer's validation loss, which is the mean of per-batch means.
 */
import { exampleRow, IGNORE_INDEX, type TokenizedExample } from '../../data/batching';
import type { TrainGraph } from '../../model/graph/train-graph';
import { scoreRows, type ScoreRow } from './eval-graph';

export interface PerplexityResult {
  n: number;
  tokens: number;
  mean_loss: number;
  perplexity: number;
  per_example: { index: number; tokens: number; mean_loss: number }[];
}

export function perplexityRows(examples: readonly TokenizedExample[], T: number, pad: number): ScoreRow[] {
  return examples.map((ex) => {
    const len = Math.max(1, Math.min(ex.ids.length - 1, T));
    const { tokens, targets } = exampleRow(ex, T, pad);
    return { tokens: Array.from(tokens.subarray(0, len)), targets: Array.from(targets.subarray(0, len)) };
  });
}

export async function evaluatePerplexity(g: TrainGraph, examples: readonly TokenizedExample[], pad: number, onProgress?: (done: number, total: number) => void): Promise<PerplexityResult> {
  if (examples.length === 0) throw new RangeError('perplexity: the dataset has no examples');
  const rows = perplexityRows(examples, g.dims.T, pad);
  const nll = await scoreRows(g, rows, pad, onProgress);
  let sum = 0;
  let count = 0;
  const per_example = rows.map((r, index) => {
    let s = 0;
    let c = 0;
    r.targets.forEach((t, i) => {
      if (t !== IGNORE_INDEX) {
        s += nll[index][i];
        c++;
      }
    });
    sum += s;
    count += c;
    return { index, tokens: c, mean_loss: c ? s / c : 0 };
  });
  if (count === 0) throw new RangeError('perplexity: no example has a token in the loss (all masked or too short)');
  const mean = sum / count;
  return { n: examples.length, tokens: count, mean_loss: mean, perplexity: Math.exp(mean), per_example };
}
