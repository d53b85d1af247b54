/**
 * A dataset file to records: the container (JSON array, JSONL, CSV/TSV, plain text) from the file
 * name and first character, then the record format from the first record's fields. Pre-tokenized
 * JSONL ({"tokens": [...]}) is recognised and handed to `parseTokenJsonl`.
 */
import { MAX_LINE_CHARS } from '../../core/json-limits';
import type { TokenizedExample } from '../batching';
import { DatasetError } from '../errors';
import { parseTokenJsonl } from '../token-jsonl';
import { decodeUtf8, forEachLine, parseJson, stripBom } from '../text';
import { parseCsv } from './csv';
import { asObject, detectRecordFormat, formatFromMapping, toRecord, FIELDS, type DatasetRecord, type FieldMap, type RecordFormat } from './records';

export type Container = 'json' | 'jsonl' | 'csv' | 'tsv' | 'text';
export const CONTAINERS: readonly Container[] = ['json', 'jsonl', 'csv', 'tsv', 'text'];

export interface LocatedRecord {
  record: DatasetRecord;
  /** "file, line 7 (example 5)": where error messages point. */
  where: string;
}

export interface ParsedDataset {
  file: string;
  container: Container;
  format: RecordFormat | 'tokens';
  records: LocatedRecord[];
  /** Only for the 'tokens' format. */
  tokens?: TokenizedExample[];
}

export interface ReadOptions {
  /** Override the container guessed from the name and content. */
  container?: Container;
  /** Override the record format guessed from the first record. */
  format?: RecordFormat;
  /** Names of the fields (JSON) or columns (CSV) that hold each part, e.g. {output: "answer"}. */
  fields?: FieldMap;
  /** Needed to check pre-tokenized ids. */
  vocabSize?: number;
  maxLineChars?: number;
}

export function detectContainer(file: string, text: string): Container {
  const ext = /\.([a-z0-9]+)$/i.exec(file)?.[1]?.toLowerCase();
  if (ext === 'csv') return 'csv';
  if (ext === 'tsv') return 'tsv';
  if (ext === 'jsonl' || ext === 'ndjson') return 'jsonl';
  if (ext === 'txt' || ext === 'md' || ext === 'text') return 'text';
  const first = /\S/.exec(text.slice(0, 4096))?.[0];
  if (first === '[') return 'json';
  if (first === '{') return 'jsonl';
  if (ext === 'json') throw new DatasetError(`${file}: a JSON dataset starts with [ (an array of records) or { (one record per line)`);
  return 'text';
}

function checkFields(fields: FieldMap): void {
  for (const k of Object.keys(fields)) {
    if (!(FIELDS as readonly string[]).includes(k)) throw new DatasetError(`unknown field "${k}" in the column mapping; the fields are ${FIELDS.join(', ')}`);
  }
}

function fromObjects(items: Iterable<{ value: unknown; where: string }>, file: string, opts: ReadOptions & { explicitFields?: FieldMap }): { format: RecordFormat; records: LocatedRecord[] } {
  const fields = opts.fields ?? {};
  let format = opts.format ?? formatFromMapping(opts.explicitFields ?? fields);
  const records: LocatedRecord[] = [];
  for (const { value, where } of items) {
    const o = asObject(value, where);
    format ??= detectRecordFormat(o, fields, where);
    records.push({ record: toRecord(o, format, fields, where), where });
  }
  if (!format || records.length === 0) throw new DatasetError(`${file}: no examples (the dataset is empty)`);
  return { format, records };
}

function* jsonlItems(text: string, file: string, maxLineChars: number): Generator<{ value: unknown; where: string }> {
  const lines: { line: string; no: number }[] = [];
  forEachLine(text, file, (line, no) => {
    if (line.trim()) lines.push({ line, no });
  }, maxLineChars);
  let example = 0;
  for (const { line, no } of lines) {
    const where = `${file}, line ${no} (example ${++example})`;
    if (example === 1 && line.trim() === '{') {
      throw new DatasetError(`${file}: line ${no} is a lone "{": this looks like one JSON object spread over several lines; a dataset is a JSON array of records ([{...}, {...}]) or one object per line (JSONL)`);
    }
    yield { value: parseJson(line, where), where };
  }
}

/** Whether the first non-blank line is a JSON object with "tokens" (pre-tokenized data). */
function firstRecordHasTokens(text: string, maxLine: number): boolean {
  const start = text.search(/\S/);
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  if (start < 0 || end - start > maxLine) return false;
  try {
    const o = JSON.parse(text.slice(start, end));
    return typeof o === 'object' && o !== null && !Array.isArray(o) && 'tokens' in o;
  } catch {
    return false; // the JSONL reader reports it with its line number
  }
}

/** Parses the bytes (strict UTF-8) or text of a dataset file into records. */
export function readDataset(input: Uint8Array | string, file: string, opts: ReadOptions = {}): ParsedDataset {
  checkFields(opts.fields ?? {});
  const text = typeof input === 'string' ? stripBom(input) : decodeUtf8(input, file);
  if (!text.trim()) throw new DatasetError(`${file}: the file is empty`);
  const container = opts.container ?? detectContainer(file, text);
  const maxLine = opts.maxLineChars ?? MAX_LINE_CHARS;

  if (container === 'text') {
    if (opts.format && opts.format !== 'text') throw new DatasetError(`${file}: a plain-text file holds format "text" only, not "${opts.format}"`);
    return { file, container, format: 'text', records: [{ record: { kind: 'text', text }, where: file }] };
  }
  if (container === 'csv' || container === 'tsv') {
    const { header, rows } = parseCsv(text, file, container === 'csv' ? ',' : '\t', maxLine);
    const byLower = new Map(header.map((h) => [h.toLowerCase(), h]));
    const fields: FieldMap = {};
    for (const [k, col] of Object.entries(opts.fields ?? {}) as [keyof FieldMap, string][]) {
      const real = byLower.get(col.trim().toLowerCase());
      if (!real) throw new DatasetError(`${file}: no column "${col}" (asked for as the ${k}); the columns are: ${header.join(', ')}`);
      fields[k] = real;
    }
    for (const f of FIELDS) if (!fields[f] && byLower.has(f)) fields[f] = byLower.get(f);
    if (!opts.format && !FIELDS.some((f) => fields[f] && f !== 'input' && f !== 'system')) {
      throw new DatasetError(`${file}: the columns are ${header.join(', ')}; say which hold the prompt and the answer, e.g. --columns instruction=${header[0] ?? 'a'},output=${header[1] ?? 'b'} (fields: instruction, input, output, prompt, completion, text, system)`);
    }
    const items = rows.map((r, i) => ({ value: Object.fromEntries(header.map((h, j) => [h, r.fields[j]])), where: `${file}, line ${r.line} (row ${i + 1})` }));
    if (items.length === 0) throw new DatasetError(`${file}: the CSV has a header but no rows`);
    return { file, container, ...fromObjects(items, file, { ...opts, fields, explicitFields: opts.fields ?? {} }) };
  }
  if (container === 'json') {
    const doc = parseJson(text, file);
    if (!Array.isArray(doc)) throw new DatasetError(`${file}: expected a JSON array of records, got ${typeof doc === 'object' ? 'an object' : typeof doc}`);
    if (doc.length === 0) throw new DatasetError(`${file}: no examples (the JSON array is empty)`);
    return { file, container, ...fromObjects(doc.map((value, i) => ({ value, where: `${file}, example ${i + 1}` })), file, opts) };
  }
  // JSONL: a first line with "tokens" is pre-tokenized data.
  if (!opts.format && firstRecordHasTokens(text, maxLine)) {
    if (opts.vocabSize === undefined) throw new DatasetError(`${file}: pre-tokenized data needs the model's vocabulary size to check the ids`);
    return { file, container, format: 'tokens', records: [], tokens: parseTokenJsonl(text, opts.vocabSize, file) };
  }
  return { file, container, ...fromObjects(jsonlItems(text, file, maxLine), file, opts) };
}

