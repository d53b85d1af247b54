/**
 * Evaluation task files, JSON Lines, one item a line:
 *   multiple choice  {"context": "...", "choices": ["...", ...], "answer": k}
 *                    or pre-tokenized {"context_tokens": [...], "choices_tokens": [[...], ...], "answer": k}
 *                    (both forms may be given at once: the tokens are scored, the texts' byte
 *                    lengths normalise acc_norm)
 *   exact match      {"prompt": "...", "answer": "..."} with an optional "stop": "..." of its own
 * Errors name the file and line and what to change (DatasetError).
 */
import { DatasetError } from '../../data/errors';
import { forEachLine, parseJson } from '../../data/text';

export type TaskKind = 'mc' | 'exact' | 'perplexity';
export const TASK_KINDS: readonly TaskKind[] = ['mc', 'exact', 'perplexity'];

export interface McItem {
  line: number;
  context?: string;
  choices?: string[];
  contextTokens?: number[];
  choicesTokens?: number[][];
  answer: number;
}

export interface ExactItem {
  line: number;
  prompt: string;
  answer: string;
  stop?: string;
}

type Obj = Record<string, unknown>;

function objects(text: string, file: string): { o: Obj; line: number; where: string }[] {
  const out: { o: Obj; line: number; where: string }[] = [];
  forEachLine(text, file, (raw, line) => {
    if (!raw.trim()) return;
    const where = `${file}, line ${line}`;
    const o = parseJson(raw.trim(), where);
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new DatasetError(`${where}: expected a JSON object (one task item per line)`);
    out.push({ o: o as Obj, line, where });
  });
  if (out.length === 0) throw new DatasetError(`${file}: no items (the file is empty)`);
  return out;
}

/** The kind of a task file from its first item: choices -> mc, prompt + answer -> exact, anything else -> perplexity (a dataset). */
export function detectTaskKind(text: string, file: string): TaskKind {
  const [{ o }] = objects(text, file);
  if ('choices' in o || 'choices_tokens' in o) return 'mc';
  if ('prompt' in o && 'answer' in o) return 'exact';
  return 'perplexity';
}

function tokenList(v: unknown, vocabSize: number, what: string, where: string, minLength: number): number[] {
  if (!Array.isArray(v) || v.length < minLength) throw new DatasetError(`${where}: "${what}" must be an array of at least ${minLength} token id${minLength === 1 ? '' : 's'}`);
  const bad = v.findIndex((t) => !Number.isInteger(t) || t < 0 || t >= vocabSize);
  if (bad >= 0) throw new DatasetError(`${where}: "${what}"[${bad}] (${JSON.stringify(v[bad])}) is not a token id in [0, ${vocabSize})`);
  return v as number[];
}

export function parseMcTask(text: string, file: string, vocabSize: number): McItem[] {
  return objects(text, file).map(({ o, line, where }) => {
    const item: McItem = { line, answer: -1 };
    if ('context' in o) {
      if (typeof o.context !== 'string') throw new DatasetError(`${where}: "context" must be a string`);
      item.context = o.context;
    }
    if ('choices' in o) {
      if (!Array.isArray(o.choices) || o.choices.length < 2 || !o.choices.every((c) => typeof c === 'string' && c.length > 0)) {
        throw new DatasetError(`${where}: "choices" must be an array of at least 2 non-empty strings`);
      }
      item.choices = o.choices as string[];
    }
    if ('context_tokens' in o) item.contextTokens = tokenList(o.context_tokens, vocabSize, 'context_tokens', where, 1);
    if ('choices_tokens' in o) {
      const c = o.choices_tokens;
      if (!Array.isArray(c) || c.length < 2) throw new DatasetError(`${where}: "choices_tokens" must be an array of at least 2 token arrays`);
      item.choicesTokens = c.map((t, k) => tokenList(t, vocabSize, `choices_tokens[${k}]`, where, 1));
    }
    const tokenized = item.contextTokens !== undefined || item.choicesTokens !== undefined;
    if (tokenized && (item.contextTokens === undefined || item.choicesTokens === undefined)) {
      throw new DatasetError(`${where}: a pre-tokenized item needs both "context_tokens" and "choices_tokens"`);
    }
    if (!tokenized && (item.context === undefined || item.choices === undefined)) {
      throw new DatasetError(`${where}: a multiple-choice item needs "context" and "choices" (text) or "context_tokens" and "choices_tokens"`);
    }
    if (item.choices && item.choicesTokens && item.choices.length !== item.choicesTokens.length) {
      throw new DatasetError(`${where}: "choices" has ${item.choices.length} entries but "choices_tokens" has ${item.choicesTokens.length}`);
    }
    const n = (item.choicesTokens ?? item.choices)!.length;
    if (!Number.isInteger(o.answer) || (o.answer as number) < 0 || (o.answer as number) >= n) {
      throw new DatasetError(`${where}: "answer" must be the index of the right choice, an integer in [0, ${n}), got ${JSON.stringify(o.answer)}`);
    }
    item.answer = o.answer as number;
    return item;
  });
}

export function parseExactTask(text: string, file: string): ExactItem[] {
  return objects(text, file).map(({ o, line, where }) => {
    if (typeof o.prompt !== 'string' || o.prompt.length === 0) throw new DatasetError(`${where}: "prompt" must be a non-empty string`);
    if (typeof o.answer !== 'string') throw new DatasetError(`${where}: "answer" must be a string (the expected completion)`);
    if ('stop' in o && (typeof o.stop !== 'string' || o.stop.length === 0)) throw new DatasetError(`${where}: "stop" must be a non-empty string`);
    return { line, prompt: o.prompt, answer: o.answer, ...(typeof o.stop === 'string' ? { stop: o.stop } : {}) };
  });
}
