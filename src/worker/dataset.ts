/**
 * The dataset loaded in the worker (src/data does the reading, templates, tokenizing and stats):
 * parsed once; tokenized once per template and masking choice, untruncated, so the histogram
 * shows true lengths; then cut to the maximum sequence length, split by seed and summarised
 * whenever those change (no re-tokenizing).
 */
import type { TokenizedExample } from '../data/batching';
import { DatasetError } from '../data/errors';
import { readDataset, type ParsedDataset } from '../data/formats/read';
import { FIELDS, type DatasetRecord, type Field, type FieldMap } from '../data/formats/records';
import { prepareParsed, tokenizeRecords } from '../data/prepare';
import { previewExample } from '../data/preview';
import { splitExamples } from '../data/split';
import { lengthStats } from '../data/stats';
import { renderSegments, type TemplateName } from '../data/templates';
import { lossTokens, truncate } from '../data/tokenize';
import type { ModelTokenizer } from '../data/tokenizer';
import type { DatasetOptions, DatasetSummary } from './api';

export interface LoadedDataset {
  name: string;
  /** Kept to read again when the column mapping changes. */
  file: File;
  parsed: ParsedDataset;
  options: DatasetOptions;
  summary: DatasetSummary;
  train: TokenizedExample[];
  validation: TokenizedExample[];
  /** Tokenized, untruncated examples per template/mask choice. */
  cache: Map<string, { examples: TokenizedExample[]; template: TemplateName | null; warnings: string[] }>;
  /** A playground prompt as training saw prompts (the template up to where the answer starts). */
  promptIds(prompt: string, useTemplate: boolean): number[];
}

const PREVIEW = 3;
/** Files above this are refused before reading: the studio holds the dataset in memory. */
export const MAX_DATASET_BYTES = 512 * 2 ** 20;

export async function readDatasetFile(file: File, vocabSize: number, columns = ''): Promise<ParsedDataset> {
  if (file.size > MAX_DATASET_BYTES) {
    throw new DatasetError(`${file.name}: ${(file.size / 2 ** 20).toFixed(0)} MiB is above the studio's limit of ${MAX_DATASET_BYTES / 2 ** 20} MiB; split the file`);
  }
  try {
    return readDataset(new Uint8Array(await file.arrayBuffer()), file.name, { vocabSize, fields: parseColumns(columns) });
  } catch (e) {
    if (e instanceof DatasetError) e.message = inStudioWords(e.message);
    throw e;
  }
}

/** src/data speaks to the CLI ("--columns a=b"); the studio has a Column mapping box for that. */
export function inStudioWords(message: string): string {
  return message.replace(/--columns (\S+?)(?=[\s)]|$)/g, (_, pairs: string) => `${pairs.split(',').join(', ')} in the Column mapping box`);
}

/** The shortest sequence length worth suggesting: a multiple of 16. */
const roundUp = (n: number) => Math.ceil(n / 16) * 16;

/**
 * No example keeps a token to learn from within `maxLen`: say what the template and prompts take
 * and which length fits (`neededSeqLen`, for the page to offer), e.g. Alpaca's preamble alone is
 * longer than a short demo length.
 */
function tooShort(name: string, examples: readonly TokenizedExample[], maxLen: number, template: TemplateName | null): DatasetError {
  // The fewest tokens an example needs to keep one answer token: up to its first trained position.
  const firstTrained = examples.map((e) => {
    const i = e.inLoss ? e.inLoss.findIndex((x, j) => j > 0 && x) : 1;
    return i < 0 ? e.ids.length : i + 1;
  });
  const least = Math.min(...firstTrained);
  const sorted = examples.map((e) => e.ids.length).sort((a, b) => a - b);
  const p95 = sorted[Math.floor(0.95 * (sorted.length - 1))] ?? least;
  const needed = roundUp(Math.max(least, p95));
  const what = template ? `with the ${template} template, the prompt part of every example` : 'every example';
  const err = new DatasetError(`${name}: ${what} is longer than the maximum sequence length of ${maxLen} tokens (the shortest takes ${least} tokens before its answer starts), so nothing is left to learn from. ${needed} tokens keep 95% of the examples whole.`);
  return Object.assign(err, { neededSeqLen: needed, maxSeqLen: maxLen });
}

/** "instruction=question, output=answer" to a field map; errors name the piece. */
export function parseColumns(text: string): FieldMap {
  const map: FieldMap = {};
  for (const piece of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\w+)\s*=\s*(.+)$/.exec(piece);
    if (!m) throw new DatasetError(`column mapping "${piece}": write field=column, e.g. output=answer`);
    if (!(FIELDS as readonly string[]).includes(m[1])) throw new DatasetError(`column mapping "${piece}": "${m[1]}" is not a field; the fields are ${FIELDS.join(', ')}`);
    map[m[1] as Field] = m[2].trim();
  }
  return map;
}

const copy = (e: TokenizedExample): TokenizedExample => ({ ids: e.ids.slice(), ...(e.inLoss ? { inLoss: e.inLoss.slice() } : {}) });

function tokenized(d: Pick<LoadedDataset, 'parsed' | 'cache'>, o: DatasetOptions, tok: ModelTokenizer) {
  const template = o.template === 'auto' ? undefined : o.template;
  const key = `${template ?? 'auto'}:${o.maskPrompt}`;
  let t = d.cache.get(key);
  if (!t) {
    if (d.parsed.format === 'tokens') t = { examples: d.parsed.tokens!, template: null, warnings: [] };
    else {
      const r = tokenizeRecords(d.parsed, tok, { template, mask: o.maskPrompt });
      t = { examples: r.examples, template: r.template, warnings: r.warnings };
    }
    // Each rendering is a tokenized copy of the whole dataset: keep the last two (switching back
    // and forth between two templates stays instant), not one per template ever tried.
    for (const oldest of d.cache.keys()) if (d.cache.size >= RENDERINGS_KEPT) d.cache.delete(oldest);
    d.cache.set(key, t);
  }
  return t;
}

/** Tokenized renderings of the dataset kept at once (per template and prompt masking). */
const RENDERINGS_KEPT = 2;

export function prepareDataset(file: File, parsed: ParsedDataset, options: DatasetOptions, tok: ModelTokenizer, cache: LoadedDataset['cache'] = new Map()): LoadedDataset {
  const name = file.name;
  const maxLen = options.maxSeqLen;
  let lengths: number[];
  let kept: TokenizedExample[];
  let template: TemplateName | null;
  let warnings: string[];
  let truncated = 0;
  let split: { train: TokenizedExample[]; validation: TokenizedExample[] };
  if (parsed.format === 'text') {
    // Plain text is cut into blocks of the sequence length while tokenizing.
    const p = prepareParsed(parsed, tok, { template: 'none', maxLen, mask: options.maskPrompt, validationFraction: options.validationFraction, seed: options.seed });
    split = { train: p.train, validation: p.validation };
    kept = [...p.train, ...p.validation];
    lengths = kept.map((e) => e.ids.length);
    template = null;
    warnings = p.warnings;
  } else {
    const t = tokenized({ parsed, cache }, options, tok);
    lengths = t.examples.map((e) => e.ids.length);
    template = t.template;
    warnings = [...t.warnings];
    kept = [];
    let dropped = 0;
    for (const e of t.examples) {
      const c = copy(e);
      if (truncate(c, maxLen)) truncated++;
      if (lossTokens(c) > 0) kept.push(c);
      else dropped++;
    }
    if (dropped) warnings.push(`${dropped} example(s) have no answer token left within ${maxLen} tokens and are left out; raise the maximum sequence length to keep them`);
    if (!kept.length) throw tooShort(name, t.examples, maxLen, template);
    split = splitExamples(kept, options.validationFraction, options.seed);
  }
  if (truncated) warnings.unshift(`${truncated} of ${lengths.length} examples are longer than ${maxLen} tokens and are cut`);
  const s = lengthStats(kept);
  const summary: DatasetSummary = {
    name, format: `${parsed.format === 'tokens' ? 'pre-tokenized' : parsed.format} ${parsed.container.toUpperCase()}`, template: template ?? 'none',
    examples: kept.length, train: split.train.length, validation: split.validation.length, lengths,
    stats: { tokens: s.tokens, min: s.min_len, mean: s.mean_len, p95: s.p95_len, max: s.max_len, truncated, lossFraction: s.loss_token_fraction },
    preview: kept.slice(0, PREVIEW).map((e) => {
      const p = previewExample(e, tok);
      return { segments: p.segments.map((x) => ({ text: x.text, train: x.kind === 'train' })), tokens: p.length };
    }),
    warnings,
  };
  return {
    name, file, parsed, options, summary, train: split.train, validation: split.validation, cache,
    promptIds(prompt, useTemplate) {
      const text = useTemplate && template ? promptText(parsed, template, prompt, tok) : prompt;
      const ids = tok.encode(text, { addSpecialTokens: false });
      return tok.addsBos && tok.bos !== null && ids[0] !== tok.bos ? [tok.bos, ...ids] : ids;
    },
  };
}

/** The template's text up to where the answer starts, for a prompt of the dataset's kind. */
function promptText(parsed: ParsedDataset, template: TemplateName, prompt: string, tok: ModelTokenizer): string {
  const rec: DatasetRecord = parsed.format === 'alpaca' ? { kind: 'instruction', instruction: prompt, input: '', output: ' ' }
    : parsed.format === 'completion' ? { kind: 'completion', prompt, completion: ' ' }
    : { kind: 'chat', messages: [{ role: 'user', content: prompt }, { role: 'assistant', content: ' ' }] };
  const segs = renderSegments(rec, template, tok, 'playground prompt');
  const first = segs.findIndex((s) => s.train);
  return segs.slice(0, first < 0 ? segs.length : first).map((s) => s.text).join('');
}
