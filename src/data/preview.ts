/**
 * What the model will read and what it will learn, for the first few examples: the tokens of each
 * example decoded back to text in runs marked `prompt` (read, masked out of the loss) or `train`
 * (predicted in the loss), so the UI can shade them. Special tokens (BOS, <|im_end|>, EOS) are shown.
 */
import type { TokenizedExample } from './batching';
import { readDataset } from './formats/read';
import { tokenizeRecords, type PrepareOptions } from './prepare';
import type { TemplateName } from './templates';
import type { ModelTokenizer } from './tokenizer';

export interface PreviewSegment {
  kind: 'prompt' | 'train';
  text: string;
  /** Number of tokens in this run. */
  tokens: number;
}

export interface PreviewExample {
  segments: PreviewSegment[];
  length: number;
  lossTokens: number;
}

export interface DatasetPreview {
  format: string;
  template: TemplateName | null;
  records: number;
  examples: PreviewExample[];
  warnings: string[];
}

/** Runs of equal loss flag, decoded (position 0 is never predicted, so it is always prompt). */
export function previewExample(ex: TokenizedExample, tok: ModelTokenizer): PreviewExample {
  const flag = (t: number) => ex.inLoss?.[t] ?? t > 0;
  const segments: PreviewSegment[] = [];
  let lossTokens = 0;
  for (let s = 0; s < ex.ids.length; ) {
    const train = flag(s);
    let e = s + 1;
    while (e < ex.ids.length && flag(e) === train) e++;
    if (train) lossTokens += e - s;
    segments.push({ kind: train ? 'train' : 'prompt', text: tok.decode(ex.ids.slice(s, e)), tokens: e - s });
    s = e;
  }
  return { segments, length: ex.ids.length, lossTokens };
}

/** Reads the file and tokenizes its first `k` records (plain text: the first `k` blocks). */
export function previewDataset(input: Uint8Array | string, file: string, tok: ModelTokenizer, opts: PrepareOptions = {}, k = 5): DatasetPreview {
  const parsed = readDataset(input, file, { ...opts, vocabSize: opts.vocabSize ?? tok.vocabSize });
  if (parsed.format === 'tokens') {
    return { format: 'tokens', template: null, records: parsed.tokens!.length, examples: parsed.tokens!.slice(0, k).map((e) => previewExample(e, tok)), warnings: [] };
  }
  const t = tokenizeRecords(parsed, tok, opts, k);
  return { format: parsed.format, template: t.template, records: parsed.records.length, examples: t.examples.slice(0, k).map((e) => previewExample(e, tok)), warnings: t.warnings };
}
