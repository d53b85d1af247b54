// Alpaca data takes the Alpaca template by default, whose preamble alone can be longer than a small
// model's context (the demo's 128 tokens): every example then loses its answer, and the error says
// which template and length are at fault and what to change; the model's own template fits.
import { describe, expect, it } from 'vitest';
import { prepareDataset } from '../../src/data/prepare';
import { realTokenizer } from './tokenizers';

const record = JSON.stringify({ instruction: 'Will Tom swim?', input: '', output: 'Ask.' });

describe('a template whose prompt does not fit the maximum length', () => {
  it('names the template and the length, and the fixes', () => {
    expect(() => prepareDataset(record, 'd.jsonl', realTokenizer('qwen3'), { maxLen: 24 })).toThrow(
      /^d\.jsonl: no example has a token to learn from .*; with the alpaca template the prompt may not fit 24 tokens: choose a shorter template \(the model's own chat template, or none\) or a longer maximum length$/,
    );
  });

  it('without a maximum length, or with a template that fits, there is nothing to say', () => {
    expect(prepareDataset(record, 'd.jsonl', realTokenizer('qwen3')).train.length).toBe(1);
    expect(prepareDataset(record, 'd.jsonl', realTokenizer('qwen3'), { maxLen: 24, template: 'none' }).train.length).toBe(1);
  });
});
