/**
 * Bytes to text and text to lines, with the limits that keep a hostile or mistaken file from
 * freezing the tab: strict UTF-8 (a wrong encoding is named, not turned into U+FFFD), a cap on the
 * length of one line or record, and a cap on JSON nesting depth checked before JSON.parse.
 */
import { DatasetError } from './errors';
import { jsonTooDeep, MAX_JSON_DEPTH, MAX_LINE_CHARS } from '../core/json-limits';


const mb = (chars: number) => `${(chars / 2 ** 20).toFixed(1)} MB`;

/** Offset of the first byte that breaks UTF-8, or -1 (only called once decoding has failed). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
    }
    // Overlong 3/4-byte forms, surrogates and code points past U+10FFFF.
    if ((c === 0xe0 && b[i + 1] < 0xa0) || (c === 0xed && b[i + 1] > 0x9f) || (c === 0xf0 && b[i + 1] < 0x90) || (c === 0xf4 && b[i + 1] > 0x8f)) return i;
    i += n + 1;
  }
  return -1;
}

const MAGIC: [string, number[]][] = [
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]], ['a JPEG image', [0xff, 0xd8, 0xff]], ['a GIF image', [0x47, 0x49, 0x46, 0x38]],
  ['a PDF document', [0x25, 0x50, 0x44, 0x46]], ['a zip archive (or .xlsx, .docx)', [0x50, 0x4b, 0x03, 0x04]],
  ['a gzip archive', [0x1f, 0x8b]], ['a Parquet file', [0x50, 0x41, 0x52, 0x31]], ['an executable', [0x7f, 0x45, 0x4c, 0x46]],
];

/** What a binary file looks like (a known signature, or a NUL byte in its first 8 KiB); null for text. */
export function binaryKind(bytes: Uint8Array): string | null {
  for (const [kind, magic] of MAGIC) if (magic.every((b, i) => bytes[i] === b)) return kind;
  const nul = bytes.subarray(0, 8192).indexOf(0);
  return nul >= 0 ? `NUL byte at byte ${nul}` : null;
}

/** Strict UTF-8 decoding (a leading BOM is dropped); the error names the line and byte offset. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new DatasetError(`${file}: the file is UTF-16 encoded; save it as UTF-8 and load it again`);
  }
  const binary = binaryKind(bytes);
  if (binary) {
    throw new DatasetError(`${file}: this is a binary file (${binary}), not text; a dataset is UTF-8 text (JSON Lines, JSON, CSV or plain text): check that the right file was picked`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    throw new DatasetError(
      `${file}: not valid UTF-8 (line ${line}, byte ${at} is 0x${bytes[at]?.toString(16).padStart(2, '0')}); ` +
        'the file is probably in another encoding (Latin-1, Windows-1252, UTF-16): save it as UTF-8',
    );
  }
}

/** Drops a leading U+FEFF (text that was decoded elsewhere may still carry it). */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Calls `fn(line, lineNumber)` for each line (1-based; `\n` or `\r\n` endings). A line longer than
 * `maxChars` is refused before it is copied out of the text.
 */
export function forEachLine(text: string, file: string, fn: (line: string, lineNo: number) => void, maxChars = MAX_LINE_CHARS): void {
  let start = 0;
  let lineNo = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    if (end - start > maxChars) {
      throw new DatasetError(
        `${file}, line ${lineNo}: the line is ${mb(end - start)} long, over the ${mb(maxChars)} limit for one record; ` +
          'is this really one JSON object per line? Split very long records, or use a plain-text file for long documents',
      );
    }
    const line = text.charCodeAt(end - 1) === 13 && end > start ? text.slice(start, end - 1) : text.slice(start, end);
    fn(line, lineNo);
    if (end === text.length) break;
    start = end + 1;
  }
}

/** Refuses JSON nested deeper than `maxDepth` (a linear scan, so JSON.parse never sees it). */
export function checkJsonDepth(json: string, where: string, maxDepth = MAX_JSON_DEPTH): void {
  if (jsonTooDeep(json, maxDepth)) throw new DatasetError(`${where}: JSON nested more than ${maxDepth} levels deep; a dataset record is a flat object (or a list of messages)`);
}


/** JSON.parse with the position in the message turned into a line and column. */
export function parseJson(json: string, where: string): unknown {
  checkJsonDepth(json, where);
  try {
    return JSON.parse(json);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /at position (\d+)/.exec(msg);
    let place = '';
    if (m && !/\(line \d+/.test(msg)) {
      const pos = Number(m[1]);
      let line = 1;
      let col = 1;
      for (let i = 0; i < pos && i < json.length; i++) {
        if (json.charCodeAt(i) === 10) {
          line++;
          col = 1;
        } else col++;
      }
      place = json.includes('\n') ? ` (line ${line}, column ${col})` : ` (column ${col})`;
    }
    throw new DatasetError(`${where}: not valid JSON: ${msg}${place}`);
  }
}
