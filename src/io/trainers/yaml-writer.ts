/**
 * A small YAML writer for the trainer configs: block mappings, lists, scalars and comment lines.
 * Strings are always double-quoted with JSON escapes (JSON strings are valid YAML double-quoted
 * scalars), so no text can turn into a number, a boolean or YAML syntax. Floats are written so that
 * YAML 1.1 loaders (PyYAML, which Axolotl and OmegaConf use) read them as floats: PyYAML reads
 * `1e-8` as a string, so it is written `1.0e-8`.
 */
import { safeCommentLines } from './line-breaks';

export type YamlScalar = string | number | boolean | null;
export type YamlValue = YamlScalar | YamlList | YamlMap;
export interface YamlList {
  readonly kind: 'list';
  readonly items: readonly YamlValue[];
}
export interface YamlMap {
  readonly kind: 'map';
  readonly lines: readonly YamlLine[];
}
/** A key and its value, with comment lines written above it; or a comment line on its own. */
export type YamlLine = { key: string; value: YamlValue; comment?: string } | { comment: string };

export const list = (...items: YamlValue[]): YamlList => ({ kind: 'list', items });
export const map = (...lines: (YamlLine | null | false | undefined)[]): YamlMap => ({ kind: 'map', lines: lines.filter((l): l is YamlLine => !!l) });
/** `key: value`, with `comment` (may span lines) above it. */
export const entry = (key: string, value: YamlValue, comment?: string): YamlLine => ({ key, value, ...(comment ? { comment } : {}) });
export const comment = (text: string): YamlLine => ({ comment: text });
/** A mapping from a plain record (sorted as given). */
export const mapOf = (record: Readonly<Record<string, YamlScalar>>): YamlMap => map(...Object.entries(record).map(([k, v]) => entry(k, v)));

/** A number as YAML 1.1 and 1.2 both read it (a float keeps a dot before its exponent). */
export function yamlNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`cannot write ${n} to YAML`);
  const s = String(n);
  const m = /^(-?\d+)(e[+-]\d+)$/.exec(s);
  return m ? `${m[1]}.0${m[2]}` : s;
}

export function yamlScalar(v: YamlScalar): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return yamlNumber(v);
  return yamlString(v);
}

/**
 * A double-quoted YAML string: JSON's escapes, plus \u escapes for what YAML readers refuse raw or
 * take as a line break inside quotes (C1 controls, U+2028/2029, BOM, non-characters).
 */
export function yamlString(s: string): string {
  return JSON.stringify(s).replace(/[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Words YAML 1.1 reads as booleans or null: quoted as keys too. */
const RESERVED_KEY = /^(y|n|yes|no|on|off|true|false|null)$/i;
const yamlKey = (k: string) => (PLAIN_KEY.test(k) && !RESERVED_KEY.test(k) ? k : yamlString(k));
const isScalar = (v: YamlValue): v is YamlScalar => v === null || typeof v !== 'object';
const commentLines = (text: string, pad: string) => safeCommentLines(text).map((l) => `${pad}#${l ? ` ${l}` : ''}`);

/** A value that fits on the key's line: a scalar, an empty collection, or a list of scalars. */
function inline(v: YamlValue): string | null {
  if (isScalar(v)) return yamlScalar(v);
  if (v.kind === 'map') return v.lines.some((l) => 'key' in l) ? null : '{}';
  if (v.items.every(isScalar)) return `[${(v.items as YamlScalar[]).map(yamlScalar).join(', ')}]`;
  return null;
}

function renderMap(m: YamlMap, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  for (const line of m.lines) {
    if (line.comment !== undefined) out.push(...commentLines(line.comment, pad));
    if (!('key' in line)) continue;
    const flat = inline(line.value);
    if (flat !== null) {
      out.push(`${pad}${yamlKey(line.key)}: ${flat}`);
    } else if (!isScalar(line.value) && line.value.kind === 'map') {
      out.push(`${pad}${yamlKey(line.key)}:`);
      renderMap(line.value, indent + 2, out);
    } else {
      out.push(`${pad}${yamlKey(line.key)}:`);
      renderList(line.value as YamlList, indent + 2, out);
    }
  }
}

function renderList(l: YamlList, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  for (const item of l.items) {
    const flat = inline(item);
    if (flat !== null) {
      out.push(`${pad}- ${flat}`);
      continue;
    }
    if (isScalar(item) || item.kind === 'list') throw new TypeError('nested lists are not written');
    // A mapping as a list item: its first line follows the dash, the rest align under it.
    const inner: string[] = [];
    renderMap(item, indent + 2, inner);
    const first = inner.findIndex((s) => !s.trimStart().startsWith('#'));
    inner[first] = `${pad}- ${inner[first].slice(indent + 2)}`;
    out.push(...inner);
  }
}

/** The document: a header comment and a top-level mapping. */
export function renderYaml(doc: YamlMap, header?: string): string {
  const out: string[] = header ? commentLines(header, '') : [];
  renderMap(doc, 0, out);
  return `${out.join('\n')}\n`;
}
