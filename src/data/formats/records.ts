/**
 * One parsed dataset record, whatever file it came from, and the checks that turn a JSON object or
 * CSV row into one. Every error names the place (file, line, example) and the field.
 *
 * Record formats (detected from the first record's fields, or chosen):
 *   alpaca      {"instruction", "input"?, "output", "system"?}
 *   chat        {"messages": [{"role", "content"}...], "system"?}
 *   sharegpt    {"conversations": [{"from", "value"}...], "system"?}
 *   completion  {"prompt", "completion"}
 *   text        {"text"}                       (continued pretraining)
 * `fields` maps these names to the names a file really uses, e.g. {output: "answer"}.
 */
import { DatasetError } from '../errors';
import type { ChatMessage } from '../chat-template';

export type RecordFormat = 'alpaca' | 'chat' | 'sharegpt' | 'completion' | 'text';
export const RECORD_FORMATS: readonly RecordFormat[] = ['alpaca', 'chat', 'sharegpt', 'completion', 'text'];

export const FIELDS = ['instruction', 'input', 'output', 'system', 'prompt', 'completion', 'text', 'messages', 'conversations'] as const;
export type Field = (typeof FIELDS)[number];
export type FieldMap = Partial<Record<Field, string>>;

export type DatasetRecord =
  | { kind: 'instruction'; system?: string; instruction: string; input: string; output: string }
  | { kind: 'completion'; prompt: string; completion: string }
  | { kind: 'chat'; messages: ChatMessage[] }
  | { kind: 'text'; text: string };

/** Fields each format needs (after mapping). */
export const REQUIRED: Record<RecordFormat, readonly Field[]> = {
  alpaca: ['instruction', 'output'],
  chat: ['messages'],
  sharegpt: ['conversations'],
  completion: ['prompt', 'completion'],
  text: ['text'],
};

const ROLE: Record<string, string> = {
  system: 'system', user: 'user', human: 'user', assistant: 'assistant', gpt: 'assistant', model: 'assistant',
  bot: 'assistant', chatgpt: 'assistant', tool: 'tool', function: 'tool', observation: 'tool', ipython: 'tool',
};

type Obj = Record<string, unknown>;
const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);
const src = (f: Field, fields: FieldMap) => fields[f] ?? f;

export function asObject(v: unknown, where: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DatasetError(`${where}: expected a JSON object (one record), got ${kindOf(v)}`);
  return v as Obj;
}

/** The format whose needed fields were all named in a column mapping (an explicit choice wins over field names found). */
export function formatFromMapping(fields: FieldMap): RecordFormat | undefined {
  return RECORD_FORMATS.find((f) => REQUIRED[f].every((k) => fields[k] !== undefined));
}

/** The format of a record from its fields; the error lists what was found and what is expected. */
export function detectRecordFormat(o: Obj, fields: FieldMap, where: string): RecordFormat {
  const has = (f: Field) => src(f, fields) in o;
  if (has('messages')) return 'chat';
  if (has('conversations')) return 'sharegpt';
  if (has('instruction') && has('output')) return 'alpaca';
  if (has('prompt') && has('completion')) return 'completion';
  if (has('text')) return 'text';
  const found = Object.keys(o).slice(0, 20).map((k) => `"${k}"`).join(', ') || 'no fields';
  throw new DatasetError(
    `${where}: cannot tell the dataset format from its fields (${found}); expected "instruction"+"output" (Alpaca), ` +
      '"messages" (chat), "conversations" (ShareGPT), "prompt"+"completion", or "text" — or name your fields, e.g. --columns instruction=question,output=answer',
  );
}

function text(o: Obj, f: Field, fields: FieldMap, where: string, required: boolean): string {
  const name = src(f, fields);
  const v = o[name];
  const label = name === f ? `"${name}"` : `"${name}" (the ${f})`;
  if (v === undefined || v === null) {
    if (!required) return '';
    throw new DatasetError(`${where}: ${v === null ? `field ${label} is null` : `missing field ${label}`}`);
  }
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new DatasetError(`${where}: field ${label} must be text, got ${kindOf(v)}`);
}

/** Message content: a string, or OpenAI-style parts [{type: "text", text}] joined. */
function content(v: unknown, where: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) {
    return v.map((p, i) => {
      if (typeof p === 'string') return p;
      if (p && typeof p === 'object' && (p as Obj).type === 'text' && typeof (p as Obj).text === 'string') return (p as Obj).text as string;
      throw new DatasetError(`${where}: content part ${i + 1} is not text (${JSON.stringify((p as Obj)?.type ?? p)}); only text can be trained`);
    }).join('');
  }
  throw new DatasetError(`${where}: "content" must be text, got ${kindOf(v)}`);
}

function messages(o: Obj, f: 'messages' | 'conversations', fields: FieldMap, where: string): ChatMessage[] {
  const name = src(f, fields);
  const list = o[name];
  if (list === undefined) throw new DatasetError(`${where}: missing field "${name}"`);
  if (!Array.isArray(list)) throw new DatasetError(`${where}: "${name}" must be a list of messages, got ${kindOf(list)}`);
  if (list.length === 0) throw new DatasetError(`${where}: "${name}" is an empty list; a conversation needs at least one message`);
  const out: ChatMessage[] = [];
  const system = o[src('system', fields)];
  if (typeof system === 'string' && system && (list[0] as Obj)?.role !== 'system' && (list[0] as Obj)?.from !== 'system') out.push({ role: 'system', content: system });
  list.forEach((m, i) => {
    const at = `${where}, message ${i + 1}`;
    const mo = asObject(m, at);
    const shareGptKeys = f === 'conversations' ? !('role' in mo) : 'from' in mo && !('role' in mo);
    const [roleKey, contentKey] = shareGptKeys ? ['from', 'value'] : ['role', 'content'];
    const role = mo[roleKey] ?? mo.role;
    if (typeof role !== 'string') throw new DatasetError(`${at}: missing "${roleKey}" (who speaks: user, assistant, system${f === 'conversations' ? ', human, gpt' : ''})`);
    const norm = ROLE[role.toLowerCase()];
    if (!norm) throw new DatasetError(`${at}: unknown ${roleKey} "${role}"; expected one of ${Object.keys(ROLE).join(', ')}`);
    const c = mo[contentKey] ?? mo.content;
    if (c === undefined || c === null) throw new DatasetError(`${at}: missing "${contentKey}" (the text of the message)`);
    out.push({ role: norm, content: content(c, at) });
  });
  return out;
}

export function toRecord(o: Obj, format: RecordFormat, fields: FieldMap, where: string): DatasetRecord {
  switch (format) {
    case 'alpaca':
      return {
        kind: 'instruction', instruction: text(o, 'instruction', fields, where, true), input: text(o, 'input', fields, where, false),
        output: text(o, 'output', fields, where, true), ...(src('system', fields) in o ? { system: text(o, 'system', fields, where, false) } : {}),
      };
    case 'completion':
      return { kind: 'completion', prompt: text(o, 'prompt', fields, where, true), completion: text(o, 'completion', fields, where, true) };
    case 'chat':
      return { kind: 'chat', messages: messages(o, 'messages', fields, where) };
    case 'sharegpt':
      return { kind: 'chat', messages: messages(o, 'conversations', fields, where) };
    case 'text':
      return { kind: 'text', text: text(o, 'text', fields, where, true) };
  }
}
