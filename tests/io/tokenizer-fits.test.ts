/** Which tokenizers fit a model's embedding table (checkTokenizerFits). */
import { describe, expect, it } from 'vitest';
import { BadFileError } from '../../src/core/errors';
import { checkTokenizerFits } from '../../src/io/model-source/tokenizer-files';
import type { ModelFiles } from '../../src/io/model-source/types';
import { realTokenizer } from '../data/tokenizers';

const files = { describe: (f: string) => `tiny/${f}` } as ModelFiles;

describe('a tokenizer fits the embedding table', () => {
  it("Gemma 3's real tokenizer fits vocab_size 262144 although its image token has id 262144", () => {
    const tok = realTokenizer('gemma3');
    expect(tok.vocabSize).toBeGreaterThan(262144);
    expect(tok.textVocabSize).toBeLessThanOrEqual(262144);
    expect(() => checkTokenizerFits(files, tok, 262144)).not.toThrow();
  });

  it('a table smaller than the ids text produces is refused, naming both sizes', () => {
    const tok = realTokenizer('qwen3');
    expect(() => checkTokenizerFits(files, tok, 1000)).toThrow(BadFileError);
    expect(() => checkTokenizerFits(files, tok, 1000)).toThrow(/tiny\/tokenizer\.json: has \d+ token ids .* vocab_size is 1000/);
  });

  it('an EOS past the table is refused even when text ids fit', () => {
    expect(() => checkTokenizerFits(files, { vocabSize: 12, textVocabSize: 10, bos: 1, eos: 11, pad: 0 }, 10)).toThrow(/gives EOS the id 11/);
  });
});
