/**
 * Multiple choice by log-likelihood, as lm-evaluation-harness scores it: for each choice the sum of
 * the log-probabilities of its tokens after the context; `acc` takes the choice with the highest
 * sum, `acc_norm` the highest sum divided by the choice's length in UTF-8 bytes of its text (for
 * pre-tokenized items without text: its length in tokens). One row per (item, choice): context +
 * choice tokens, targets the choice tokens at the positions that predict them (-100 elsewhere),
 * scored by one forward per micro-batch of rows.
 */
import type { ModelTokenizer } from '../../data/tokenizer';
import { DatasetError } from '../../data/errors';
import { IGNORE_INDEX } from '../../data/batching';
import type { McItem } from './task-file';
import type { ScoreRow } from './eval-graph';

export interface McRow extends ScoreRow {
  item: number;
  choice: number;
}

export interface McExample {
  line: number;
  answer: number;
  /** Summed log-likelihood of each choice (nats). */
  loglikelihoods: number[];
  /** argmax of loglikelihoods */
  pred: number;
  /** argmax of loglikelihoods / lengths */
  pred_norm: number;
  /** What acc_norm divides by: UTF-8 bytes of each choice's text, or its token count. */
  lengths: number[];
}

export interface McResult {
  n: number;
  acc: number;
  acc_norm: number;
  /** 'bytes' when every item had choice texts; 'tokens' or 'mixed' otherwise. */
  acc_norm_length: 'bytes' | 'tokens' | 'mixed';
  per_example: McExample[];
}

const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

/** Context and continuation ids of a text pair, split as lm-evaluation-harness does (trailing context whitespace moves to the choice). */
export function encodePair(tok: ModelTokenizer, context: string, choice: string): { context: number[]; choice: number[] } {
  const ws = context.length - context.trimEnd().length;
  const ctx = ws > 0 ? context.slice(0, -ws) : context;
  const cont = (ws > 0 ? context.slice(-ws) : '') + choice;
  let ctxIds = ctx.length > 0 ? tok.encode(ctx, { addSpecialTokens: true }) : [];
  if (ctxIds.length === 0) ctxIds = [tok.bos ?? tok.eos]; // an empty context is conditioned on BOS (lm-eval: the end-of-text token)
  const whole = tok.encode(ctx + cont, { addSpecialTokens: true });
  const prefixMatches = ctx.length > 0 && whole.length > ctxIds.length && ctxIds.every((id, i) => whole[i] === id);
  return { context: ctxIds, choice: prefixMatches ? whole.slice(ctxIds.length) : tok.encode(cont, { addSpecialTokens: false }) };
}

/** Token ids of every item's context and choices (text items through the tokenizer). */
export function tokenizeMc(items: readonly McItem[], tok: ModelTokenizer | null, file: string): { context: number[]; choices: number[][] }[] {
  return items.map((it) => {
    if (it.contextTokens && it.choicesTokens) return { context: it.contextTokens, choices: it.choicesTokens };
    if (!tok) throw new DatasetError(`${file}, line ${it.line}: text items need the model's tokenizer (tokenizer.json); give "context_tokens" and "choices_tokens" instead`);
    const pairs = it.choices!.map((c) => encodePair(tok, it.context!, c));
    return { context: pairs[0].context, choices: pairs.map((p) => p.choice) };
  });
}

/**
 * The rows to score, each at most T positions: context + choice minus the last token, targets the
 * next tokens where they are the choice's. A row too long keeps its last T + 1 tokens (the left of
 * the context goes, as lm-eval truncates).
 */
export function mcRows(items: readonly { context: number[]; choices: number[][] }[], T: number): McRow[] {
  const rows: McRow[] = [];
  items.forEach((it, item) => {
    it.choices.forEach((ch, choice) => {
      let ids = [...it.context, ...ch];
      let first = it.context.length; // index in ids of the first choice token
      if (ids.length - 1 > T) {
        const cut = ids.length - 1 - T;
        if (cut >= first) throw new RangeError(`item ${item}, choice ${choice}: the choice alone has ${ch.length} tokens, more than the ${T} positions of a row`);
        ids = ids.slice(cut);
        first -= cut;
      }
      const tokens = ids.slice(0, -1);
      const targets = tokens.map((_, t) => (t + 1 >= first ? ids[t + 1] : IGNORE_INDEX));
      rows.push({ item, choice, tokens, targets });
    });
  });
  return rows;
}

const argmax = (xs: readonly number[]) => xs.reduce((best, x, i) => (x > xs[best] ? i : best), 0);

/** Metrics from each row's per-position negative log-likelihoods (rows as mcRows made them). */
export function mcScores(items: readonly McItem[], tokenized: readonly { choices: number[][] }[], rows: readonly McRow[], nll: readonly Float32Array[]): McResult {
  const ll = tokenized.map((t) => t.choices.map(() => 0));
  rows.forEach((r, i) => {
    let sum = 0;
    for (let t = 0; t < r.targets.length; t++) if (r.targets[t] !== IGNORE_INDEX) sum += nll[i][t];
    ll[r.item][r.choice] = -sum;
  });
  let kinds = 0;
  const per_example = items.map((it, i): McExample => {
    const byBytes = it.choices !== undefined;
    kinds |= byBytes ? 1 : 2;
    const lengths = byBytes ? it.choices!.map(utf8Bytes) : tokenized[i].choices.map((c) => c.length);
    return { line: it.line, answer: it.answer, loglikelihoods: ll[i], pred: argmax(ll[i]), pred_norm: argmax(ll[i].map((x, k) => x / lengths[k])), lengths };
  });
  const n = per_example.length;
  return {
    n,
    acc: per_example.filter((e) => e.pred === e.answer).length / n,
    acc_norm: per_example.filter((e) => e.pred_norm === e.answer).length / n,
    acc_norm_length: kinds === 1 ? 'bytes' : kinds === 2 ? 'tokens' : 'mixed',
    per_example,
  };
}
