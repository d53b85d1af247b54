// Every dataset format and every template, one example each, through the real Llama 3 tokenizer
// (and Qwen3 for the second family): the exact ids, the loss mask (1 = predicted in the loss), the
// text the ids decode to, and the counts. The id of each token was checked by decoding it; the
// tokenizer itself is checked against llama.cpp's cases in tokenizer.test.ts.
import { describe, expect, it } from 'vitest';
import { prepareDataset, type PrepareOptions } from '../../src/data/prepare';
import { maskString, realTokenizer, type TokenizerName } from './tokenizers';

interface Case {
  name: string;
  file: string;
  data: string;
  opts?: PrepareOptions;
  tok?: TokenizerName;
  format: string;
  template: string | null;
  ids: number[][];
  mask: string[];
  text: string;
}

const j = JSON.stringify;
const chat = [
  { role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' },
  { role: 'user', content: 'Bye' }, { role: 'assistant', content: 'Ciao 👋' },
];

const cases: Case[] = [
  {
    name: 'Alpaca JSON array with input, alpaca template (default)',
    file: 'alpaca.json', data: j([{ instruction: 'Translate to French.', input: 'Good morning', output: 'Bonjour' }]),
    format: 'alpaca', template: 'alpaca',
    ids: [[128000, 39314, 374, 459, 7754, 430, 16964, 264, 3465, 11, 35526, 449, 459, 1988, 430, 5825, 4726, 2317, 13, 9842, 264, 2077, 430, 36001, 45695, 279, 1715, 382, 14711, 30151, 512, 28573, 311, 8753, 382, 14711, 5688, 512, 15571, 6693, 271, 14711, 6075, 512, 82681, 128001]],
    mask: ['0000000000000000000000000000000000000000000011'],
    text: '<|begin_of_text|>Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nTranslate to French.\n\n### Input:\nGood morning\n\n### Response:\nBonjour<|end_of_text|>',
  },
  {
    name: 'Alpaca JSONL without input, alpaca template',
    file: 'alpaca.jsonl', data: j({ instruction: 'Add 2 and 3.', output: '5' }),
    format: 'alpaca', template: 'alpaca',
    ids: [[128000, 39314, 374, 459, 7754, 430, 16964, 264, 3465, 13, 9842, 264, 2077, 430, 36001, 45695, 279, 1715, 382, 14711, 30151, 512, 2261, 220, 17, 323, 220, 18, 382, 14711, 6075, 512, 20, 128001]],
    mask: ['0000000000000000000000000000000011'],
    text: '<|begin_of_text|>Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nAdd 2 and 3.\n\n### Response:\n5<|end_of_text|>',
  },
  {
    name: "chat messages JSONL, the model's own template (Llama 3), two assistant turns trained",
    file: 'chat.jsonl', data: j({ messages: chat }),
    format: 'chat', template: 'model',
    ids: [[128000, 128006, 9125, 128007, 271, 3513, 10015, 13, 128009, 128006, 882, 128007, 271, 13347, 128009, 128006, 78191, 128007, 271, 9906, 0, 128009, 128006, 882, 128007, 271, 1383, 68, 128009, 128006, 78191, 128007, 271, 34, 23332, 62904, 233, 128009, 128001]],
    mask: ['000000000000000000011100000000000111111'],
    text: '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nCiao 👋<|eot_id|><|end_of_text|>',
  },
  {
    name: 'ShareGPT JSONL, llama3 template',
    file: 'sharegpt.jsonl', data: j({ conversations: [{ from: 'human', value: 'Capital of Japan?' }, { from: 'gpt', value: 'Tokyo.' }] }), opts: { template: 'llama3' },
    format: 'sharegpt', template: 'llama3',
    ids: [[128000, 128006, 882, 128007, 271, 64693, 315, 6457, 30, 128009, 128006, 78191, 128007, 271, 53954, 16417, 13, 128009, 128001]],
    mask: ['0000000000000011111'],
    text: '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nCapital of Japan?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nTokyo.<|eot_id|><|end_of_text|>',
  },
  {
    name: 'prompt/completion JSONL, no template (default): prompt + completion as they are',
    file: 'completion.jsonl', data: j({ prompt: 'The sky is', completion: ' blue.' }),
    format: 'completion', template: 'none',
    ids: [[128000, 791, 13180, 374, 6437, 13, 128001]],
    mask: ['0000111'],
    text: '<|begin_of_text|>The sky is blue.<|end_of_text|>',
  },
  {
    name: 'CSV with chosen columns (quotes, escaped quotes, a comma in a field), chatml template: spelled out on Llama 3',
    file: 'qa.csv', data: 'question,answer\n"Say ""hi""","hi, there"\n', opts: { template: 'chatml', fields: { prompt: 'question', completion: 'answer' } },
    format: 'completion', template: 'chatml',
    ids: [[128000, 27, 91, 318, 5011, 91, 29, 882, 198, 46864, 330, 6151, 23288, 91, 318, 6345, 91, 397, 27, 91, 318, 5011, 91, 29, 78191, 198, 6151, 11, 1070, 27, 91, 318, 6345, 91, 29, 128001]],
    mask: ['000000000000000000000000001111111111'],
    text: '<|begin_of_text|><|im_start|>user\nSay "hi"<|im_end|>\n<|im_start|>assistant\nhi, there<|im_end|><|end_of_text|>',
  },
  {
    name: 'plain text for continued pretraining: blocks of maxLen sharing one token, all in the loss',
    file: 'book.txt', data: 'Once upon a time, there was a llama.\nIt liked to code.\n', opts: { maxLen: 8 },
    format: 'text', template: null,
    ids: [[128000, 12805, 5304, 264, 892, 11, 1070, 574], [574, 264, 94776, 627, 2181, 15262, 311, 2082], [2082, 627, 128001]],
    mask: ['01111111', '01111111', '011'],
    text: '<|begin_of_text|>Once upon a time, there was was a llama.\nIt liked to code code.\n<|end_of_text|>',
  },
  {
    name: 'chat, template none: messages one per line, answers trained',
    file: 'chat-none.jsonl', data: j({ messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }] }), opts: { template: 'none' },
    format: 'chat', template: 'none',
    ids: [[128000, 13347, 198, 9906, 0, 128001]],
    mask: ['000111'],
    text: '<|begin_of_text|>Hi\nHello!<|end_of_text|>',
  },
  {
    name: "Qwen3, the model's own template, multi-turn: empty think block is prompt, <|im_end|> is EOS and ends the answer",
    tok: 'qwen3', file: 'qwen-chat.jsonl',
    data: j({ messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }, { role: 'user', content: '2+2?' }, { role: 'assistant', content: '4' }] }),
    format: 'chat', template: 'model',
    ids: [[151644, 872, 198, 13048, 151645, 198, 151644, 77091, 198, 9707, 0, 151645, 198, 151644, 872, 198, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271, 19, 151645]],
    mask: ['0000000001110000000000000000011'],
    text: '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n4<|im_end|>',
  },
  {
    name: 'Qwen3, Alpaca data through chatml: no BOS (the model has none), no second EOS',
    tok: 'qwen3', file: 'qwen-alpaca.json', data: j([{ instruction: 'Add 2 and 3.', output: '5' }]), opts: { template: 'chatml' },
    format: 'alpaca', template: 'chatml',
    ids: [[151644, 872, 198, 2212, 220, 17, 323, 220, 18, 13, 151645, 198, 151644, 77091, 198, 20, 151645]],
    mask: ['00000000000000011'],
    text: '<|im_start|>user\nAdd 2 and 3.<|im_end|>\n<|im_start|>assistant\n5<|im_end|>',
  },
];

describe('dataset formats x templates: exact ids and loss masks', () => {
  it.each(cases)('$name', (c) => {
    const tok = realTokenizer(c.tok ?? 'llama3');
    const r = prepareDataset(c.data, c.file, tok, c.opts);
    expect([r.format, r.template]).toEqual([c.format, c.template]);
    expect(r.train.map((e) => e.ids)).toEqual(c.ids);
    expect(r.train.map((e) => maskString(e.inLoss, e.ids.length))).toEqual(c.mask);
    expect(r.train.map((e) => tok.decode(e.ids)).join('')).toBe(c.text);
    // EOS is the last id and in the loss; pad is never EOS.
    const last = r.train[r.train.length - 1];
    expect(last.ids[last.ids.length - 1]).toBe(tok.eos);
    expect(last.inLoss![last.ids.length - 1]).toBe(true);
    expect(tok.pad).not.toBe(tok.eos);
    // The counts follow from the masks.
    const tokens = c.ids.flat().length;
    const inLoss = c.mask.join('').split('').filter((b) => b === '1').length;
    expect(r.stats).toMatchObject({ examples: c.ids.length, tokens, truncated: 0, dropped: 0, loss_tokens: inLoss, loss_token_fraction: inLoss / tokens });
  });
});

describe('SentencePiece-style tokenizers: the whole text is tokenized, not prompt and answer apart', () => {
  it('finds the boundary by tokenizing the prompt alone when the pieces differ from the whole', () => {
    // tiny-char (Metaspace, prepend "first") writes "▁" before the first piece of any text it gets:
    // "a" alone is [▁, a], but inside "q:a" it is [a].
    const tiny = realTokenizer('tiny-char');
    expect(tiny.encode('a', { addSpecialTokens: false })).toEqual([3, 5]);
    const r = prepareDataset(j({ prompt: 'q:', completion: 'a' }), 'sp.jsonl', tiny);
    expect(r.train[0].ids.map((id) => tiny.tokenString(id))).toEqual(['<s>', '▁', 'q', ':', 'a', '</s>']);
    expect(r.train[0].ids).toEqual([1, 3, 21, 43, 5, 2]);
    expect(maskString(r.train[0].inLoss, 6)).toBe('000011');
  });
});

describe('masking switches, truncation, dropping', () => {
  const llama = realTokenizer('llama3');

  it('--no-mask trains on the prompt too (all but position 0)', () => {
    const r = prepareDataset(j({ instruction: 'Add 2 and 3.', output: '5' }), 'a.jsonl', llama, { mask: false });
    expect(r.train[0].ids).toEqual(cases[1].ids[0]);
    expect(maskString(r.train[0].inLoss, 34)).toBe(`0${'1'.repeat(33)}`);
    expect(r.stats.loss_token_fraction).toBeCloseTo(33 / 34, 12);
  });

  it('cuts examples to maxLen and counts what was cut; the masked fraction follows', () => {
    const data = [j({ messages: chat }), j({ messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }] })].join('\n');
    const r = prepareDataset(data, 'c.jsonl', llama, { maxLen: 24 });
    expect(r.train[0].ids).toEqual(cases[2].ids[0].slice(0, 24));
    expect(maskString(r.train[0].inLoss, 24)).toBe('000000000000000000011100');
    expect(r.train[1].ids).toEqual([128000, 128006, 882, 128007, 271, 13347, 128009, 128006, 78191, 128007, 271, 9906, 0, 128009, 128001]);
    expect(maskString(r.train[1].inLoss, 15)).toBe('000000000001111');
    expect(r.stats).toMatchObject({ examples: 2, tokens: 39, min_len: 15, mean_len: 19.5, p95_len: 24, max_len: 24, truncated: 1, truncated_tokens: 15, loss_tokens: 7, dropped: 0 });
    expect(1 - r.stats.loss_token_fraction).toBeCloseTo(32 / 39, 12); // masked fraction
  });

  it('drops an example whose answer is truncated away, counts it, and names it in a warning', () => {
    const data = [j({ instruction: 'Add 2 and 3.', output: '5' }), j({ instruction: 'Hi', output: 'Hello' })].join('\n');
    const r = prepareDataset(data, 'mix.jsonl', llama, { maxLen: 30 });
    // The first is 34 ids with its answer at 32..33: nothing of it is left to learn.
    expect(r.stats).toMatchObject({ examples: 1, dropped: 1, truncated: 1, truncated_tokens: 4 });
    expect(llama.decode(r.train[0].ids)).toMatch(/### Instruction:\nHi\n\n### Response:\nHello<\|end_of_text\|>$/);
    expect(r.warnings).toEqual([expect.stringContaining('1 example(s) have no token in the loss and were dropped')]);
    expect(r.warnings[0]).toContain('mix.jsonl, line 1 (example 1)');
  });
});
