/**
 * Segments to token ids and loss flags, the way the model will be trained on them.
 *
 * - The whole text is tokenized at once (special-token strings in it become their ids), as
 *   transformers' apply_chat_template(tokenize=True) and TRL do; tokenizing prompt and answer
 *   apart would differ for SentencePiece-style tokenizers (Llama 2, Mistral, TinyLlama), which put
 *   a "▁" before each piece. Where prompt turns into answer: when tokenizing the pieces apart
 *   gives the same ids as the whole (byte-level BPE at template boundaries, nearly always), the
 *   pieces' lengths; otherwise the text up to each boundary is tokenized, the tokens it shares with
 *   the whole are prompt, and a token that straddles the boundary counts as answer.
 * - BOS first when the model uses one (`ModelTokenizer.addsBos`) and the text did not already
 *   start with it; EOS last unless the answer already ends with it. EOS is always in the loss.
 * - Position 0 is never in the loss (nothing predicts it), so `inLoss[0]` is false.
 * - Template text after the last answer (a trailing "\n") is dropped: nothing learns from it.
 */
import type { Segment } from './segment';
import type { TokenizedExample } from './batching';
import type { ModelTokenizer } from './tokenizer';

/** Characters tokenized at once in plain text: below this, tokenization is exact for every tokenizer. */
export const TEXT_CHUNK_CHARS = 1 << 20;

/** The example of a record's segments, or null when no segment is trained (no answer). */
export function encodeSegments(segments: readonly Segment[], tok: ModelTokenizer, mask: boolean): Required<TokenizedExample> | null {
  let end = segments.length;
  while (end > 0 && !segments[end - 1].train) end--;
  if (end === 0) return null;
  // Runs of equal flag: [text, train].
  const runs: { text: string; train: boolean }[] = [];
  for (let i = 0; i < end; ) {
    let text = segments[i].text;
    const train = segments[i].train;
    for (i++; i < end && segments[i].train === train; i++) text += segments[i].text;
    runs.push({ text, train });
  }
  const full = runs.map((r) => r.text).join('');
  const ids = tok.encode(full, { addSpecialTokens: false });
  const ends = runEnds(runs.map((r) => r.text), full, ids, tok);
  const inLoss: boolean[] = new Array(ids.length);
  runs.forEach((run, k) => {
    for (let t = k ? ends[k - 1] : 0; t < ends[k]; t++) inLoss[t] = run.train || !mask;
  });
  return withBosEos(ids, inLoss, tok);
}

/** For each run, the index in `ids` (the whole text's tokens) where its tokens end. */
function runEnds(texts: string[], full: string, ids: number[], tok: ModelTokenizer): number[] {
  const ends: number[] = [];
  let n = 0;
  let same = true;
  for (const text of texts) {
    const part = tok.encode(text, { addSpecialTokens: false });
    for (let i = 0; same && i < part.length; i++) same = ids[n + i] === part[i];
    n += part.length;
    ends.push(n);
    if (!same) break;
  }
  if (same && n === ids.length) return ends;
  // Slow path: tokenize each prefix and keep what it shares with the whole.
  ends.length = 0;
  let chars = 0;
  texts.forEach((text, k) => {
    chars += text.length;
    if (k === texts.length - 1) return ends.push(ids.length);
    const head = tok.encode(full.slice(0, chars), { addSpecialTokens: false });
    let to = 0;
    while (to < head.length && head[to] === ids[to]) to++;
    ends.push(Math.max(to, ends[k - 1] ?? 0));
  });
  return ends;
}

function withBosEos(ids: number[], inLoss: boolean[], tok: ModelTokenizer): Required<TokenizedExample> {
  if (tok.addsBos && tok.bos !== null && ids[0] !== tok.bos) {
    ids.unshift(tok.bos);
    inLoss.unshift(false);
  }
  if (ids[ids.length - 1] !== tok.eos) {
    ids.push(tok.eos);
    inLoss.push(true);
  }
  inLoss[inLoss.length - 1] = true;
  inLoss[0] = false;
  return { ids, inLoss };
}

/**
 * Where to cut long text so that the pieces tokenize as the whole would: after a line break
 * followed by a non-space (a pre-token boundary for byte-level BPE), else before a space that
 * starts a word, else anywhere outside a surrogate pair.
 */
function cutPoint(text: string, start: number, limit: number): number {
  if (text.length - start <= limit) return text.length;
  const hi = start + limit;
  for (let p = text.lastIndexOf('\n', hi - 1); p > start; p = text.lastIndexOf('\n', p - 1)) {
    if (/\S/.test(text[p + 1] ?? '')) return p + 1;
  }
  for (let p = text.lastIndexOf(' ', hi - 1); p > start; p = text.lastIndexOf(' ', p - 1)) {
    if (/\S/.test(text[p - 1]) && /\S/.test(text[p + 1] ?? '')) return p;
  }
  const c = text.charCodeAt(hi - 1);
  return c >= 0xd800 && c <= 0xdbff ? hi - 1 : hi;
}

/** A document's ids (BOS, text, EOS), all in the loss but position 0. */
export function encodeDocument(text: string, tok: ModelTokenizer, chunkChars = TEXT_CHUNK_CHARS): Required<TokenizedExample> {
  const ids: number[] = [];
  for (let start = 0; start < text.length; ) {
    const end = cutPoint(text, start, chunkChars);
    for (const id of tok.encode(text.slice(start, end), { addSpecialTokens: false })) ids.push(id);
    start = end;
  }
  return withBosEos(ids, ids.map(() => true), tok);
}

/**
 * A long document as blocks of at most `maxLen` ids for continued pretraining. Consecutive blocks
 * share one token (the last of one is the first of the next), so every token but the very first is
 * predicted exactly once.
 */
export function documentBlocks(doc: Required<TokenizedExample>, maxLen: number | undefined): Required<TokenizedExample>[] {
  if (maxLen === undefined || doc.ids.length <= maxLen) return [doc];
  const blocks: Required<TokenizedExample>[] = [];
  for (let s = 0; s < doc.ids.length - 1; s += maxLen - 1) {
    const ids = doc.ids.slice(s, s + maxLen);
    blocks.push({ ids, inLoss: ids.map((_, i) => i > 0) });
  }
  return blocks;
}

/** Keeps the first `maxLen` ids; returns how many were cut. */
export function truncate(ex: TokenizedExample, maxLen: number | undefined): number {
  if (maxLen === undefined || ex.ids.length <= maxLen) return 0;
  const cut = ex.ids.length - maxLen;
  ex.ids.length = maxLen;
  if (ex.inLoss) ex.inLoss.length = maxLen;
  return cut;
}

/** Tokens predicted in the loss: positions 1.. whose flag is set (all of them without flags). */
export function lossTokens(ex: TokenizedExample): number {
  if (!ex.inLoss) return Math.max(ex.ids.length - 1, 0);
  let n = 0;
  for (let i = 1; i < ex.ids.length; i++) if (ex.inLoss[i]) n++;
  return n;
}
