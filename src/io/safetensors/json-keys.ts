/**
 * JSON.parse silently keeps the last of two equal keys, so a safetensors header that names a
 * tensor twice would parse "fine" and hide bytes. This scanner walks already-validated JSON text
 * and reports the first key that repeats within one object, at any depth.
 */
export interface DuplicateKey {
  key: string;
  /** Keys of the enclosing objects, outermost first ([] for the top-level object). */
  path: string[];
}

interface Frame {
  /** Keys seen so far; null for an array. */
  keys: Set<string> | null;
  /** The key (or '[]') under which the parent holds this container. */
  name: string;
  lastKey: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** `text` must be valid JSON (call after JSON.parse succeeded); returns null when keys are unique. */
export function findDuplicateKey(text: string): DuplicateKey | null {
  const stack: Frame[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i++;
      let escaped = false;
      while (i < n && text.charCodeAt(i) !== QUOTE) {
        if (text.charCodeAt(i) === BACKSLASH) {
          escaped = true;
          i++; // skip the escaped character, which may be a quote
        }
        i++;
      }
      i++; // past the closing quote
      const top = stack[stack.length - 1];
      if (!top?.keys) continue; // a string inside an array, or a bare top-level string
      let j = i;
      while (j < n && isWs(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) !== COLON) continue; // a value, not a key
      // Compare decoded keys: "\u0041" and "A" are the same key to JSON.parse.
      const key = escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
      if (top.keys.has(key)) return { key, path: stack.slice(1).map((f) => f.name) };
      top.keys.add(key);
      top.lastKey = key;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const parent = stack[stack.length - 1];
      const name = parent ? (parent.keys ? parent.lastKey : '[]') : '';
      stack.push({ keys: c === 0x7b ? new Set() : null, name, lastKey: '' });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    }
    i++;
  }
  return null;
}
