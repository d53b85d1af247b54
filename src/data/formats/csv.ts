/**
 * CSV (RFC 4180): fields separated by a delimiter, records by CRLF or LF; a field in double quotes
 * may hold delimiters, line breaks and doubled quotes (""); the first record is the header. Blank
 * lines are skipped. Errors name the line where the record starts.
 */
import { MAX_LINE_CHARS } from '../../core/json-limits';
import { DatasetError } from '../errors';

export interface CsvTable {
  header: string[];
  /** Each row's fields, and the line on which the row starts (1-based). */
  rows: { fields: string[]; line: number }[];
}

export function parseCsv(text: string, file: string, delimiter = ',', maxRecordChars = MAX_LINE_CHARS): CsvTable {
  const d = delimiter.charCodeAt(0);
  const records: { fields: string[]; line: number }[] = [];
  let i = 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const startLine = line;
    const startPos = i;
    const fields: string[] = [];
    // One record: fields until an unquoted line break or the end of the text.
    for (;;) {
      if (i - startPos > maxRecordChars) {
        throw new DatasetError(`${file}, line ${startLine}: one CSV record is over ${maxRecordChars / 2 ** 20} MB; is a quote left open earlier in the file?`);
      }
      let value: string;
      if (text.charCodeAt(i) === 34) {
        const parts: string[] = [];
        let j = i + 1;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0 || q - startPos > maxRecordChars) {
            throw new DatasetError(`${file}, line ${startLine}: a quoted field is never closed (a " without its closing "); double quotes inside a field are written ""`);
          }
          const chunk = text.slice(j, q);
          for (let k = 0; k < chunk.length; k++) if (chunk.charCodeAt(k) === 10) line++;
          parts.push(chunk);
          if (text.charCodeAt(q + 1) === 34) {
            parts.push('"');
            j = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        value = parts.join('');
        const c = text.charCodeAt(i);
        if (i < n && c !== d && c !== 10 && !(c === 13 && text.charCodeAt(i + 1) === 10)) {
          throw new DatasetError(`${file}, line ${line}: text after the closing quote of a field ("${text.slice(i, i + 10)}..."); a field is either fully quoted or not at all`);
        }
      } else {
        let j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === d || c === 10 || (c === 13 && text.charCodeAt(j + 1) === 10)) break;
          if (c === 34) throw new DatasetError(`${file}, line ${line}: a " inside an unquoted field; quote the whole field and double the quote ("")`);
          if (++j - startPos > maxRecordChars) throw new DatasetError(`${file}, line ${startLine}: one CSV record is over ${maxRecordChars / 2 ** 20} MB; split it`);
        }
        value = text.slice(i, j);
        i = j;
      }
      fields.push(value);
      const c = text.charCodeAt(i);
      if (c === d) {
        i++;
        continue;
      }
      if (c === 13) i++;
      if (i < n) {
        i++; // the \n
        line++;
      }
      break;
    }
    if (fields.length === 1 && fields[0] === '' && text.charCodeAt(startPos) !== 34) continue; // a blank line
    records.push({ fields, line: startLine });
  }
  if (records.length === 0) throw new DatasetError(`${file}: the file is empty (a CSV dataset needs a header row and at least one row)`);
  const header = records[0].fields.map((h) => h.trim());
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h.toLowerCase())) throw new DatasetError(`${file}, line 1: the header names the column "${h}" twice; give every column its own name`);
    seen.add(h.toLowerCase());
  }
  const rows = records.slice(1);
  for (const r of rows) {
    if (r.fields.length !== header.length) {
      throw new DatasetError(`${file}, line ${r.line}: ${r.fields.length} fields, but the header has ${header.length} (${header.join(', ')}); quote fields that contain "${delimiter}" or line breaks`);
    }
  }
  return { header, rows };
}
