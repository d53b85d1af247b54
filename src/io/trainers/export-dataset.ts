/**
 * A studio dataset as the cluster trainers read it. Every record goes through the studio's own
 * readers (src/data/formats) and, where the trainer cannot apply the studio's template itself,
 * through the studio's own templates (src/data/templates.ts), so the text the trainer sees is the
 * text the studio trained on:
 *
 *   text      plain text (continued pretraining): trained on every token
 *   messages  a conversation, for the chat templates (chatml, llama3, model): the trainer applies
 *             the same template to it (Axolotl chat_template, TRL's chat template, torchtune chat)
 *   alpaca    instruction/input/output under the alpaca template, which Axolotl knows natively
 *   pair      the studio-rendered prompt (masked) and answer (trained): one answer at the end
 *   segments  studio-rendered pieces, each trained or not (several answers, alpaca/none template)
 */
import { splitExamples } from '../../data/split';
import type { ChatMessage } from '../../data/chat-template';
import { DatasetError } from '../../data/errors';
import type { ParsedDataset } from '../../data/formats/read';
import type { DatasetRecord, RecordFormat } from '../../data/formats/records';
import type { Segment } from '../../data/segment';
import { defaultTemplate, renderSegments, toMessages, TEMPLATES, type TemplateName } from '../../data/templates';
import type { ModelTokenizer } from '../../data/tokenizer';

export type ExportExample =
  | { kind: 'text'; text: string }
  | { kind: 'messages'; messages: ChatMessage[] }
  | { kind: 'alpaca'; instruction: string; input: string; output: string }
  | { kind: 'pair'; prompt: string; completion: string }
  | { kind: 'segments'; segments: Segment[] };

export interface ExportDataset {
  /** The dataset file, for comments. */
  file: string;
  format: RecordFormat;
  /** The studio template the examples were rendered with; null for plain text. */
  template: TemplateName | null;
  /** Prompt tokens masked from the loss (the studio's default); false trains on every token. */
  mask: boolean;
  /** Short examples packed into rows of maxSeqLen. */
  pack: boolean;
  train: ExportExample[];
  validation: ExportExample[];
  /** The tokenizer's BOS text when training sequences start with it, and its EOS text (null: no tokenizer at hand). */
  bos: string | null;
  eos: string | null;
  /** Things the person should know (template assumed without a tokenizer, ...). */
  notes: string[];
}

export const CHAT_TEMPLATES: readonly TemplateName[] = ['chatml', 'llama3', 'model'];
export const isChatTemplate = (t: TemplateName | null): boolean => t !== null && CHAT_TEMPLATES.includes(t);

/** alpaca and none render without a tokenizer; this stands in for it and refuses any use. */
const NO_TOKENIZER = new Proxy({}, {
  get() {
    throw new DatasetError('this template needs the model\'s tokenizer');
  },
}) as ModelTokenizer;

/** A studio template applied to a record, for the templates that need no tokenizer (alpaca, none). */
export function renderWithoutTokenizer(rec: DatasetRecord, template: TemplateName, where: string): Segment[] {
  return renderSegments(rec, template, NO_TOKENIZER, where);
}

function toExample(rec: DatasetRecord, template: TemplateName, where: string): ExportExample {
  if (rec.kind === 'text') return { kind: 'text', text: rec.text };
  if (isChatTemplate(template)) return { kind: 'messages', messages: toMessages(rec) };
  if (template === 'alpaca' && rec.kind === 'instruction' && !rec.system) {
    return { kind: 'alpaca', instruction: rec.instruction, input: rec.input, output: rec.output };
  }
  const segments = renderWithoutTokenizer(rec, template, where);
  const pair = segmentsToPair(segments);
  return pair && !pair.folded ? { kind: 'pair', prompt: pair.prompt, completion: pair.completion } : { kind: 'segments', segments };
}

/**
 * One prompt and one answer from rendered segments: the last trained segment is the answer and
 * everything before it the prompt (earlier answers are then prompt: `folded`). What follows the
 * answer is dropped: no later token is predicted from it. Null when nothing is trained.
 */
export function segmentsToPair(segments: readonly Segment[]): { prompt: string; completion: string; folded: boolean } | null {
  let last = -1;
  segments.forEach((s, i) => {
    if (s.train && s.text) last = i;
  });
  if (last < 0) return null;
  const before = segments.slice(0, last);
  return { prompt: before.map((s) => s.text).join(''), completion: segments[last].text, folded: before.some((s) => s.train && s.text) };
}

/** The alpaca prompt the studio renders for an instruction record (Stanford Alpaca's wording). */
export function alpacaPair(ex: { instruction: string; input: string; output: string }): { prompt: string; completion: string } {
  const segs = renderWithoutTokenizer({ kind: 'instruction', instruction: ex.instruction, input: ex.input, output: ex.output }, 'alpaca', 'alpaca record');
  const pair = segmentsToPair(segs);
  return { prompt: pair?.prompt ?? '', completion: ex.output };
}

/** A conversation cut before its last assistant message (earlier answers become prompt: `folded`). */
export function splitAtLastAnswer(messages: readonly ChatMessage[]): { prompt: ChatMessage[]; completion: ChatMessage[]; folded: boolean } | null {
  const last = messages.map((m) => m.role).lastIndexOf('assistant');
  if (last < 0) return null;
  const prompt = messages.slice(0, last);
  return { prompt, completion: [messages[last]], folded: prompt.some((m) => m.role === 'assistant') };
}

/** Validation records by seed, the way the studio's splitExamples picks them (Philox shuffle of indices). */
export function splitBySeed<T>(items: readonly T[], fraction: number, seed: number): { train: T[]; validation: T[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new DatasetError(`the validation fraction must be in [0, 1), got ${fraction}`);
  return splitExamples(items, fraction, seed);
}

export interface ExportDatasetOptions {
  template?: TemplateName;
  mask?: boolean;
  pack?: boolean;
  validationFraction?: number;
  seed?: number;
  /** The model's tokenizer when its files are at hand: picks the default template and gives BOS/EOS text. */
  tokenizer?: ModelTokenizer | null;
}

function chooseTemplate(format: RecordFormat, o: ExportDatasetOptions, notes: string[]): TemplateName | null {
  if (format === 'text') {
    if (o.template !== undefined && o.template !== 'none') throw new DatasetError('plain text (continued pretraining) takes no prompt template; use the template "none"');
    return null;
  }
  if (o.template !== undefined && !TEMPLATES.includes(o.template)) throw new DatasetError(`unknown template "${o.template}"; choose one of ${TEMPLATES.join(', ')}`);
  const tok = o.tokenizer;
  if (o.template === 'model' && tok && !tok.chatTemplate) {
    throw new DatasetError(`${tok.name}: tokenizer_config.json has no chat_template, so the template "model" is not available; choose chatml, llama3, alpaca or none`);
  }
  if (o.template) return o.template;
  if (tok) return defaultTemplate(format, tok);
  if (format === 'chat' || format === 'sharegpt') {
    notes.push('no tokenizer at hand: conversations use the model\'s own chat template ("model"), as the studio does for a model that has one; pass --template chatml if it has none');
    return 'model';
  }
  return format === 'alpaca' ? 'alpaca' : 'none';
}

/** The records of a parsed dataset file as the trainers' examples, split train/validation by seed. */
export function prepareExportDataset(parsed: ParsedDataset, o: ExportDatasetOptions = {}): ExportDataset {
  if (parsed.format === 'tokens') {
    throw new DatasetError(`${parsed.file}: pre-tokenized data ({"tokens": [...]}) cannot be exported: the trainers tokenize text themselves; export the text dataset it was made from`);
  }
  const notes: string[] = [];
  const template = chooseTemplate(parsed.format, o, notes);
  const examples = parsed.records.map(({ record, where }) => toExample(record, template ?? 'none', where));
  const split = splitBySeed(examples, o.validationFraction ?? 0, o.seed ?? 42);
  const tok = o.tokenizer;
  const bos = tok && tok.addsBos && tok.bos !== null ? tok.tokenString(tok.bos) ?? null : null;
  const eos = tok ? tok.tokenString(tok.eos) ?? null : null;
  return { file: parsed.file, format: parsed.format, template, mask: o.mask ?? true, pack: o.pack ?? false, ...split, bos, eos, notes };
}

export interface PromptCompletionRows {
  rows: unknown[];
  /** Examples whose earlier answers became prompt (one completion is trained per example). */
  folded: number;
  /** Examples with no answer to train on (the studio drops them too). */
  dropped: number;
}

/**
 * One prompt and one completion per example: {"text"} for plain text, {"prompt", "completion"}
 * as strings (rendered by the studio's template) or as message lists (conversations).
 */
export function promptCompletionRows(examples: readonly ExportExample[]): PromptCompletionRows {
  const out: PromptCompletionRows = { rows: [], folded: 0, dropped: 0 };
  for (const e of examples) {
    let row: unknown = null;
    if (e.kind === 'text') row = { text: e.text };
    else if (e.kind === 'alpaca') row = alpacaPair(e);
    else if (e.kind === 'pair') row = { prompt: e.prompt, completion: e.completion };
    else {
      const split = e.kind === 'messages' ? splitAtLastAnswer(e.messages) : segmentsToPair(e.segments);
      if (split?.folded) out.folded++;
      if (split) row = { prompt: split.prompt, completion: split.completion };
    }
    if (row) out.rows.push(row);
    else out.dropped++;
  }
  return out;
}

/** Rows as JSON Lines, one object per line. */
export const toJsonl = (rows: readonly unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : '');
