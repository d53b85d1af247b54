/**
 * Generation with exact match: greedy decoding of each prompt until the end of sequence (the
 * model's EOS ids), a stop string (the item's own, else the run's), or the token budget; the text
 * before the stop string is compared with the answer, after optional normalization (whitespace:
 * trim and collapse runs to one space; case: lower-case both).
 */
import type { ModelTokenizer } from '../../data/tokenizer';
import type { Decoder } from '../../model/generate';
import type { ExactItem } from './task-file';

export interface Normalization {
  whitespace?: boolean;
  case?: boolean;
}

export interface ExactOptions {
  maxNewTokens?: number;
  stop?: string;
  normalize?: Normalization;
  /** Items generated so far, after each. */
  onProgress?: (done: number, total: number) => void;
}

export interface ExactExample {
  line: number;
  answer: string;
  prediction: string;
  correct: boolean;
}

export interface ExactResult {
  n: number;
  exact_match: number;
  per_example: ExactExample[];
}

export function normalizeAnswer(s: string, n: Normalization = {}): string {
  let out = s;
  if (n.whitespace) out = out.trim().replace(/\s+/g, ' ');
  if (n.case) out = out.toLowerCase();
  return out;
}

/** The generated text cut before the first stop string. */
export function cutAtStop(text: string, stop: string | undefined): string {
  if (!stop) return text;
  const at = text.indexOf(stop);
  return at >= 0 ? text.slice(0, at) : text;
}

export async function evaluateExactMatch(dec: Decoder, tok: ModelTokenizer, items: readonly ExactItem[], o: ExactOptions = {}): Promise<ExactResult> {
  const per_example: ExactExample[] = [];
  for (const it of items) {
    const prompt = tok.encode(it.prompt, { addSpecialTokens: true });
    const stop = it.stop ?? o.stop;
    const ids: number[] = [];
    const abort = new AbortController();
    const budget = Math.max(0, Math.min(o.maxNewTokens ?? 64, dec.maxLen - prompt.length));
    await dec.generate(prompt, {
      maxNewTokens: budget, temperature: 0, signal: abort.signal,
      onToken: (id) => {
        ids.push(id);
        if (stop && tok.decode(ids, { skipSpecialTokens: true }).includes(stop)) abort.abort();
      },
    });
    const prediction = cutAtStop(tok.decode(ids, { skipSpecialTokens: true }), stop);
    const correct = normalizeAnswer(prediction, o.normalize) === normalizeAnswer(it.answer, o.normalize);
    per_example.push({ line: it.line, answer: it.answer, prediction, correct });
    o.onProgress?.(per_example.length, items.length);
  }
  const n = per_example.length;
  return { n, exact_match: per_example.filter((e) => e.correct).length / n, per_example };
}
