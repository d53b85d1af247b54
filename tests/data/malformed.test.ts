// A corpus of broken datasets, each answered with its own message (file, line or example, field,
// what to do) and never a crash; afterwards the same tokenizer still prepares a good file.
import { describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors';
import { prepareDataset, type PrepareOptions } from '../../src/data/prepare';
import { realTokenizer } from './tokenizers';

const tok = realTokenizer('llama3');
const j = JSON.stringify;
const enc = (s: string) => new TextEncoder().encode(s);

const corpus: { name: string; file: string; data: string | Uint8Array; opts?: PrepareOptions; message: RegExp }[] = [
  { name: 'broken JSON line', file: 'd.jsonl', data: `${j({ instruction: 'a', output: 'b' })}\n${j({ instruction: 'c', output: 'd' })}\n{"instruction": "e", "output": }\n`,
    message: /^d\.jsonl, line 3 \(example 3\): not valid JSON: Unexpected token '}', .*"output": }" is not valid JSON$/ },
  { name: 'missing field', file: 'd.jsonl', data: `${j({ instruction: 'a', output: 'b' })}\n\n${j({ instruction: 'c' })}\n`,
    message: /^d\.jsonl, line 3 \(example 2\): missing field "output"$/ },
  { name: 'missing mapped field', file: 'd.json', data: j([{ q: 'a', a: 'b' }, { q: 'c' }]), opts: { fields: { instruction: 'q', output: 'a' } },
    message: /^d\.json, example 2: missing field "a" \(the output\)$/ },
  { name: 'empty file', file: 'd.jsonl', data: '', message: /^d\.jsonl: the file is empty$/ },
  { name: 'only blank lines', file: 'd.jsonl', data: '\n  \n\r\n', message: /^d\.jsonl: the file is empty$/ },
  { name: 'empty JSON array', file: 'd.json', data: '[ ]', message: /^d\.json: no examples \(the JSON array is empty\)$/ },
  { name: 'not UTF-8 (Latin-1 é)', file: 'd.jsonl', data: new Uint8Array([...enc(`${j({ instruction: 'a', output: 'b' })}\n{"instruction": "caf`), 0xe9, ...enc('", "output": "x"}')]),
    message: /^d\.jsonl: not valid UTF-8 \(line 2, byte 53 is 0xe9\); the file is probably in another encoding .*save it as UTF-8$/ },
  { name: 'UTF-16 file', file: 'd.jsonl', data: new Uint8Array([0xff, 0xfe, 0x7b, 0x00]), message: /^d\.jsonl: the file is UTF-16 encoded; save it as UTF-8/ },
  { name: 'deeply nested JSON', file: 'd.jsonl', data: `{"instruction": ${'['.repeat(100_000)}${']'.repeat(100_000)}, "output": "x"}`,
    message: /^d\.jsonl, line 1 \(example 1\): JSON nested more than 64 levels deep/ },
  { name: 'a line that is an array', file: 'd.jsonl', data: '["instruction", "output"]\n', message: /^d\.jsonl, line 1 \(example 1\): expected a JSON object \(one record\), got an array$/ },
  { name: 'fields of no known format', file: 'd.jsonl', data: j({ question: 'a', answer: 'b' }),
    message: /^d\.jsonl, line 1 \(example 1\): cannot tell the dataset format from its fields \("question", "answer"\); expected "instruction"\+"output" \(Alpaca\).*--columns instruction=question,output=answer$/ },
  { name: 'wrong type', file: 'd.jsonl', data: j({ instruction: 'a', output: { text: 'b' } }), message: /^d\.jsonl, line 1 \(example 1\): field "output" must be text, got an object$/ },
  { name: 'null field', file: 'd.jsonl', data: j({ instruction: null, output: 'b' }), message: /^d\.jsonl, line 1 \(example 1\): field "instruction" is null$/ },
  { name: 'unknown chat role', file: 'c.jsonl', data: j({ messages: [{ role: 'user', content: 'a' }, { role: 'robot', content: 'b' }] }),
    message: /^c\.jsonl, line 1 \(example 1\), message 2: unknown role "robot"; expected one of system, user, human, assistant, gpt/ },
  { name: 'message without content', file: 'c.jsonl', data: j({ messages: [{ role: 'user' }] }), message: /^c\.jsonl, line 1 \(example 1\), message 1: missing "content"/ },
  { name: 'ShareGPT message without from', file: 's.json', data: j([{ conversations: [{ value: 'hi' }] }]), message: /^s\.json, example 1, message 1: missing "from"/ },
  { name: 'empty conversation', file: 'c.jsonl', data: j({ messages: [] }), message: /^c\.jsonl, line 1 \(example 1\): "messages" is an empty list/ },
  { name: 'image content', file: 'c.jsonl', data: j({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: 'x' }] }] }),
    message: /message 1: content part 1 is not text \("image_url"\); only text can be trained$/ },
  { name: 'no assistant answer anywhere', file: 'c.jsonl', data: j({ messages: [{ role: 'user', content: 'hello?' }] }),
    message: /^c\.jsonl: no example has a token to learn from \(1 dropped: c\.jsonl, line 1 \(example 1\)\); check that conversations contain assistant answers/ },
  { name: 'JSON array with a broken element', file: 'd.json', data: '[\n  {"instruction": "a", "output": "b"},\n  {"instruction" "c"}\n]',
    message: /^d\.json: not valid JSON: .* \(line 3, column 18\)$/ },
  { name: 'a pretty-printed single object', file: 'd.json', data: '{\n  "instruction": "a",\n  "output": "b"\n}\n', message: /looks like one JSON object spread over several lines; a dataset is a JSON array/ },
  { name: 'CSV: unknown column', file: 'd.csv', data: 'q,a\nx,y\n', opts: { fields: { prompt: 'q', completion: 'answer' } },
    message: /^d\.csv: no column "answer" \(asked for as the completion\); the columns are: q, a$/ },
  { name: 'CSV: columns not chosen', file: 'd.csv', data: 'question,reply\nx,y\n', message: /^d\.csv: the columns are question, reply; say which hold the prompt and the answer, e\.g\. --columns instruction=question,output=reply/ },
  { name: 'CSV: header only', file: 'd.csv', data: 'instruction,output\n', message: /^d\.csv: the CSV has a header but no rows$/ },
  { name: 'pre-tokenized id out of range', file: 't.jsonl', data: j({ tokens: [1, 2, 999999] }), message: /^t\.jsonl, line 1: token 2 \(999999\) is not an id in \[0, 128256\)$/ },
  { name: 'unknown template', file: 'd.jsonl', data: j({ instruction: 'a', output: 'b' }), opts: { template: 'vicuna' as never }, message: /^unknown template "vicuna"; choose one of alpaca, chatml, llama3, model, none$/ },
  { name: 'a template on plain text', file: 'book.txt', data: 'Once upon a time.', opts: { template: 'chatml' }, message: /^book\.txt: plain text \(continued pretraining\) takes no prompt template; use the template "none"$/ },
  { name: 'unknown field in the column mapping', file: 'd.jsonl', data: j({ instruction: 'a', output: 'b' }), opts: { fields: { answer: 'x' } as never }, message: /^unknown field "answer" in the column mapping/ },
];

describe('malformed datasets: each has its own message', () => {
  it(`the corpus has ${corpus.length} cases`, () => expect(corpus.length).toBeGreaterThanOrEqual(15));

  it.each(corpus)('$name', ({ file, data, opts, message }) => {
    let error: unknown;
    try {
      prepareDataset(data, file, tok, opts);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toMatch(message);
  });

  it('a 50 MB single line is refused at once, without parsing it', () => {
    const bytes = new Uint8Array(50 * 2 ** 20 + 30).fill(0x78); // "xxxx..."
    bytes.set(enc('{"instruction": "a", "output": "'));
    const t0 = performance.now();
    expect(() => prepareDataset(bytes, 'big.jsonl', tok)).toThrow(/^big\.jsonl, line 1: the line is 50\.0 MB long, over the 4\.0 MB limit for one record/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('the same tokenizer prepares a good file afterwards', () => {
    const r = prepareDataset(j({ instruction: 'Add 2 and 3.', output: '5' }), 'ok.jsonl', tok);
    expect(r.stats.examples).toBe(1);
    expect(r.train[0].ids.slice(-2)).toEqual([20, 128001]);
  });
});
