/**
 * Limits that keep a hostile or mistaken file from freezing the tab, shared by every reader of
 * text and JSON (datasets, config.json, tokenizer files, safetensors headers).
 */

/** Longest line (JSONL) or record (CSV) accepted, in UTF-16 code units: 4 Mi characters. */
export const MAX_LINE_CHARS = 4 * 1024 * 1024;
/** Deepest JSON nesting accepted in one record ({"messages": [{...}]} is 3). */
export const MAX_JSON_DEPTH = 64;

/** True when `json` nests arrays/objects deeper than `maxDepth` (a linear scan; strings are skipped). */
export function jsonTooDeep(json: string, maxDepth = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      if (++depth > maxDepth) return true;
    } else if (c === 93 || c === 125) depth--;
  }
  return false;
}
