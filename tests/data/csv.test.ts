// The RFC 4180 reader: quoting, doubled quotes, line breaks inside quotes, CRLF, BOM, blank lines,
// and the errors a person gets for broken files.
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/data/formats/csv';
import { readDataset } from '../../src/data/formats/read';

describe('parseCsv', () => {
  it('reads quoted fields with delimiters, doubled quotes and line breaks; CRLF and LF', () => {
    const t = parseCsv('a,b,c\r\n1,"x, y","say ""hi"""\r\n"multi\nline",,"\r\nz"\n', 'f.csv');
    expect(t.header).toEqual(['a', 'b', 'c']);
    expect(t.rows).toEqual([
      { fields: ['1', 'x, y', 'say "hi"'], line: 2 },
      { fields: ['multi\nline', '', '\r\nz'], line: 3 },
    ]);
  });

  it('skips blank lines, keeps empty quoted fields, needs no final line break', () => {
    const t = parseCsv('q,a\n\n"",x\n\ny,""', 'f.csv');
    expect(t.rows.map((r) => r.fields)).toEqual([['', 'x'], ['y', '']]);
    expect(t.rows.map((r) => r.line)).toEqual([3, 5]);
  });

  it('counts lines across quoted line breaks for later rows', () => {
    const t = parseCsv('a,b\n"1\n2\n3",x\nlast,row\n', 'f.csv');
    expect(t.rows[1]).toEqual({ fields: ['last', 'row'], line: 5 });
  });

  it('reads TSV with the tab delimiter', () => {
    expect(parseCsv('a\tb\nx, y\t"t\tab"\n', 'f.tsv', '\t').rows[0].fields).toEqual(['x, y', 't\tab']);
  });

  it.each([
    ['a,b\n"open,x\n', /f\.csv, line 2: a quoted field is never closed/],
    ['a,b\nx"y,z\n', /f\.csv, line 2: a " inside an unquoted field; quote the whole field and double the quote/],
    ['a,b\n"x"y,z\n', /f\.csv, line 2: text after the closing quote of a field/],
    ['a,b\n1,2,3\n', /f\.csv, line 2: 3 fields, but the header has 2 \(a, b\)/],
    ['a,A\n1,2\n', /the header names the column "A" twice/],
    ['\n\n', /the file is empty/],
  ])('refuses %j', (text, message) => {
    expect(() => parseCsv(text, 'f.csv')).toThrow(message);
  });

  it('refuses a record over the size limit without scanning the rest of the file', () => {
    const huge = `a,b\n"${'x'.repeat(5000)}`;
    expect(() => parseCsv(huge, 'f.csv', ',', 1000)).toThrow(/line 2: a quoted field is never closed/);
    expect(() => parseCsv(`a,b\n${'x'.repeat(5000)},y\n`, 'f.csv', ',', 1000)).toThrow(/line 2: one CSV record is over/);
  });
});

describe('CSV datasets', () => {
  it('maps columns by header name (any case) and strips the BOM of the file', () => {
    const bytes = new TextEncoder().encode('\uFEFFInstruction,Output\nAdd 1 and 1,2\n');
    const d = readDataset(bytes, 'd.csv');
    expect(d.format).toBe('alpaca');
    expect(d.records).toEqual([{ record: { kind: 'instruction', instruction: 'Add 1 and 1', input: '', output: '2' }, where: 'd.csv, line 2 (row 1)' }]);
  });

  it('takes chosen columns', () => {
    const d = readDataset('question,answer,source\nWhy?,Because.,web\n', 'd.csv', { fields: { prompt: 'question', completion: 'Answer' } });
    expect(d.records[0].record).toEqual({ kind: 'completion', prompt: 'Why?', completion: 'Because.' });
  });

  it('an explicit mapping decides the format over column names that happen to match another', () => {
    const d = readDataset('instruction,output,q,a\ni,o,Why?,Because.\n', 'd.csv', { fields: { prompt: 'q', completion: 'a' } });
    expect(d.format).toBe('completion');
    expect(readDataset('instruction,output,q,a\ni,o,Why?,Because.\n', 'd.csv').format).toBe('alpaca');
  });
});
