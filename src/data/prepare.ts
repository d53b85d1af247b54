/**
 * A dataset file to training examples: read (any format), template, tokenize with loss flags,
 * truncate, drop examples with nothing to learn, split train/validation by seed, pack if asked,
 * and count everything. Pure JS: runs in the worker and in the CLI.
 */
import type { TokenizedExample } from './batching';
import { DatasetError } from './errors';
import { readDataset, type Container, type LocatedRecord, type ParsedDataset, type ReadOptions } from './formats/read';
import type { RecordFormat } from './formats/records';
import { packExamples } from './packing';
import { splitExamples } from './split';
import { lengthStats, type DatasetStats } from './stats';
import { defaultTemplate, renderSegments, templateWarnings, TEMPLATES, type TemplateName } from './templates';
import { documentBlocks, encodeDocument, encodeSegments, truncate } from './tokenize';
import type { ModelTokenizer } from './tokenizer';

export interface PrepareOptions extends ReadOptions {
  /** Prompt template; by default the model's own for chat data (chatml without one), alpaca for Alpaca data, none otherwise. */
  template?: TemplateName;
  /** Most token ids per example (RunConfig.maxSeqLen); longer ones are cut, plain text is split into blocks. None: no limit. */
  maxLen?: number;
  /** Mask prompt tokens out of the loss (default true); false trains on every token. */
  mask?: boolean;
  /** Pack short examples into rows of maxLen (default false). */
  pack?: boolean;
  /** Share of examples held out for validation, in [0, 1) (default 0). */
  validationFraction?: number;
  /** Seed of the split (RunConfig.seed). */
  seed?: number;
  /** Called now and then while tokenizing: records done, records in all. */
  onProgress?: (done: number, total: number) => void;
}

export interface PreparedDataset {
  file: string;
  container: Container;
  format: RecordFormat | 'tokens';
  template: TemplateName | null;
  train: TokenizedExample[];
  validation: TokenizedExample[];
  stats: DatasetStats;
  /** Things a person should know that do not stop the run (template tokens missing, examples dropped). */
  warnings: string[];
}

export interface TokenizedRecords {
  template: TemplateName | null;
  examples: TokenizedExample[];
  truncated: number;
  truncatedTokens: number;
  /** Examples dropped, with the first few places for the warning. */
  dropped: number;
  droppedWhere: string[];
  warnings: string[];
}

function checkOptions(o: PrepareOptions): void {
  if (o.maxLen !== undefined && !(Number.isInteger(o.maxLen) && o.maxLen >= 2)) throw new DatasetError(`the maximum length must be a whole number of tokens >= 2, got ${o.maxLen}`);
  if (o.template !== undefined && !TEMPLATES.includes(o.template)) throw new DatasetError(`unknown template "${o.template}"; choose one of ${TEMPLATES.join(', ')}`);
  if (o.pack && o.maxLen === undefined) throw new DatasetError('packing needs a maximum length (the row size)');
  const f = o.validationFraction ?? 0;
  if (!(f >= 0 && f < 1)) throw new DatasetError(`the validation fraction must be in [0, 1), got ${f}`);
}

/** Tokenizes the records of a parsed file (the first `limit` only, for previews). */
export function tokenizeRecords(parsed: ParsedDataset, tok: ModelTokenizer, opts: PrepareOptions = {}, limit = Infinity): TokenizedRecords {
  checkOptions(opts);
  const format = parsed.format;
  if (format === 'tokens') throw new DatasetError(`${parsed.file}: pre-tokenized data is not tokenized again`);
  const template = opts.template ?? defaultTemplate(format, tok);
  if (template === 'model' && !tok.chatTemplate) {
    throw new DatasetError(`${tok.name}: tokenizer_config.json has no chat_template, so the template "model" is not available; choose chatml, llama3, alpaca or none`);
  }
  const out: TokenizedRecords = { template: format === 'text' ? null : template, examples: [], truncated: 0, truncatedTokens: 0, dropped: 0, droppedWhere: [], warnings: format === 'text' ? [] : templateWarnings(template, tok) };
  const records: readonly LocatedRecord[] = parsed.records.slice(0, limit);
  const mask = opts.mask ?? true;
  records.forEach(({ record, where }, i) => {
    if (opts.onProgress && i % 256 === 0) opts.onProgress(i, records.length);
    if (record.kind === 'text') {
      if (opts.template !== undefined && opts.template !== 'none') renderSegments(record, opts.template, tok, where); // throws: text takes no template
      out.examples.push(...documentBlocks(encodeDocument(record.text, tok), opts.maxLen));
      return;
    }
    const ex = encodeSegments(renderSegments(record, template, tok, where), tok, mask);
    const cut = ex ? truncate(ex, opts.maxLen) : 0;
    if (cut) {
      out.truncated++;
      out.truncatedTokens += cut;
    }
    if (!ex || !ex.inLoss.some((b, t) => b && t > 0)) {
      out.dropped++;
      if (out.droppedWhere.length < 3) out.droppedWhere.push(where);
      return;
    }
    out.examples.push(ex);
  });
  opts.onProgress?.(records.length, records.length);
  if (out.dropped) {
    out.warnings.push(`${out.dropped} example(s) have no token in the loss and were dropped (no assistant answer, or the answer was truncated away), e.g. ${out.droppedWhere.join('; ')}`);
  }
  return out;
}

/** Reads, tokenizes, splits and packs a dataset file. `tok` may be null for pre-tokenized data only. */
export function prepareDataset(input: Uint8Array | string, file: string, tok: ModelTokenizer | null, opts: PrepareOptions = {}): PreparedDataset {
  checkOptions(opts);
  return prepareParsed(readDataset(input, file, { ...opts, vocabSize: opts.vocabSize ?? tok?.vocabSize }), tok, opts);
}

/** `prepareDataset` after `readDataset` (for callers that look at the format before opening a tokenizer). */
export function prepareParsed(parsed: ParsedDataset, tok: ModelTokenizer | null, opts: PrepareOptions = {}): PreparedDataset {
  checkOptions(opts);
  const file = parsed.file;
  let t: TokenizedRecords;
  if (parsed.format === 'tokens') {
    const examples = parsed.tokens!;
    let truncated = 0;
    let truncatedTokens = 0;
    for (const ex of examples) {
      const cut = truncate(ex, opts.maxLen);
      if (cut) {
        truncated++;
        truncatedTokens += cut;
      }
    }
    t = { template: null, examples, truncated, truncatedTokens, dropped: 0, droppedWhere: [], warnings: [] };
  } else {
    if (!tok) throw new DatasetError(`${file}: text datasets need the model's tokenizer (tokenizer.json)`);
    t = tokenizeRecords(parsed, tok, opts);
  }
  if (t.examples.length === 0) {
    // Every example lost its answer: most often a long template prompt (Alpaca's preamble) against a short maximum length.
    const fit = opts.maxLen !== undefined && t.template && t.template !== 'none'
      ? `; with the ${t.template} template the prompt may not fit ${opts.maxLen} tokens: choose a shorter template (the model's own chat template, or none) or a longer maximum length`
      : '';
    throw new DatasetError(`${file}: no example has a token to learn from (${t.dropped} dropped: ${t.droppedWhere.join('; ')}); check that conversations contain assistant answers and that the maximum length leaves room for them${fit}`);
  }
  const split = splitExamples(t.examples, opts.validationFraction ?? 0, opts.seed ?? 42);
  const l = lengthStats(t.examples);
  // Key order as the CLI prints it: the keys first.
  const stats: DatasetStats = {
    examples: l.examples, tokens: l.tokens, min_len: l.min_len, mean_len: l.mean_len, p95_len: l.p95_len, max_len: l.max_len,
    truncated: t.truncated, loss_token_fraction: l.loss_token_fraction, truncated_tokens: t.truncatedTokens, loss_tokens: l.loss_tokens, dropped: t.dropped,
    train_examples: split.train.length, validation_examples: split.validation.length,
  };
  let { train, validation } = split;
  if (opts.pack && opts.maxLen !== undefined) {
    train = packExamples(train, opts.maxLen);
    validation = packExamples(validation, opts.maxLen);
    stats.packed_rows = train.length + validation.length;
    stats.packing_efficiency = stats.tokens / (stats.packed_rows * opts.maxLen);
  }
  return { file, container: parsed.container, format: parsed.format, template: t.template, train, validation, stats, warnings: t.warnings };
}
