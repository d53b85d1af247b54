/**
 * Dataset statistics, in the keys the CLI prints (snake_case, as JSON for scripts): how many
 * examples and tokens, the length distribution, what truncation cut, and how much of the text is
 * actually learned from (the loss-token fraction: predicted tokens over all tokens).
 */
import type { TokenizedExample } from './batching';
import { lossTokens } from './tokenize';

export interface DatasetStats {
  /** Examples kept (after dropping those with nothing to learn), before packing. */
  examples: number;
  /** Token ids over all kept examples (after truncation). */
  tokens: number;
  min_len: number;
  mean_len: number;
  /** Nearest-rank 95th percentile of the example length. */
  p95_len: number;
  max_len: number;
  /** Examples cut to the maximum length, and the ids cut from them. */
  truncated: number;
  truncated_tokens: number;
  /** Examples dropped because no token of theirs is in the loss (no answer, or truncated away). */
  dropped: number;
  /** Tokens predicted in the loss, and their share of `tokens`. */
  loss_tokens: number;
  loss_token_fraction: number;
  train_examples: number;
  validation_examples: number;
  /** With packing: rows after packing (train + validation) and the share of row slots holding tokens. */
  packed_rows?: number;
  packing_efficiency?: number;
}

export function lengthStats(examples: readonly TokenizedExample[]): Pick<DatasetStats, 'examples' | 'tokens' | 'min_len' | 'mean_len' | 'p95_len' | 'max_len' | 'loss_tokens' | 'loss_token_fraction'> {
  const lens = examples.map((e) => e.ids.length).sort((a, b) => a - b);
  const n = lens.length;
  const tokens = lens.reduce((a, b) => a + b, 0);
  const loss = examples.reduce((a, e) => a + lossTokens(e), 0);
  return {
    examples: n,
    tokens,
    min_len: n ? lens[0] : 0,
    mean_len: n ? tokens / n : 0,
    p95_len: n ? lens[Math.ceil(0.95 * n) - 1] : 0,
    max_len: n ? lens[n - 1] : 0,
    loss_tokens: loss,
    loss_token_fraction: tokens ? loss / tokens : 0,
  };
}
