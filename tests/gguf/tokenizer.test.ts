/**
 * Tokenizer metadata: written from the real Llama 3, Qwen3 and Gemma 3 tokenizers and the demo's,
 * read back from the GGUF bytes, rebuilt into a tokenizer.json (./tokenizer-rebuild.ts) and run on
 * llama.cpp's own tokenizer test texts and more: the ids must equal the original tokenizer.json's.
 * (scripts/llama-cpp-check runs the same files through llama.cpp itself.)
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/config/model-config';
import { ModelTokenizer } from '../../src/data/tokenizer';
import { readGguf, TokenType, tokenizerMetadata, writeGgufToBytes, type GgufReadValue } from '../../src/io/gguf';
import { llamaCppCases, realTokenizer, tokenizerFiles, type TokenizerName } from '../data/tokenizers';
import { rebuildTokenizerJson } from './tokenizer-rebuild';

const EXTRA = [
  'The quick brown fox jumps over the lazy dog.', '  leading and trailing  ', 'naïve café — 東京 🚀 שלום', 'def f(x):\n    return x ** 2\n',
  '1234567890 3.14159', "I've been 'told he's there", '\n\n\t\t   \n', 'Finetune with LoRA: r=8, alpha=16!',
];

const VOCAB: Record<string, number> = { llama3: 128256, qwen3: 151936, gemma3: 262144, demo: 320 };
const ARCH: Record<string, Record<string, unknown>> = {
  llama3: { architectures: ['LlamaForCausalLM'], model_type: 'llama' },
  qwen3: { architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', bos_token_id: 151643 },
  gemma3: { architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text' },
  demo: { architectures: ['LlamaForCausalLM'], model_type: 'llama' },
};

function files(name: string): { tokenizerJson: Record<string, unknown>; tokenizerConfig: Record<string, unknown> } {
  if (name !== 'demo') return tokenizerFiles(name as TokenizerName) as never;
  return { tokenizerJson: JSON.parse(readFileSync('public/demo/tokenizer.json', 'utf8')), tokenizerConfig: JSON.parse(readFileSync('public/demo/tokenizer_config.json', 'utf8')) };
}

type Exported = { kv: Map<string, GgufReadValue>; tok: ModelTokenizer; warnings: string[] };
const cache = new Map<string, Promise<Exported>>();
const exported = (name: string) => {
  if (!cache.has(name)) cache.set(name, exportTokenizer(name));
  return cache.get(name)!;
};
const tokenizerOf = (name: string) => (name === 'demo' ? new ModelTokenizer({ ...files(name), name }) : realTokenizer(name as TokenizerName));

async function exportTokenizer(name: string): Promise<Exported> {
  const f = files(name);
  const tok = tokenizerOf(name);
  const config = parseModelConfig({ vocab_size: VOCAB[name], hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, ...ARCH[name] });
  const t = tokenizerMetadata({ tokenizerJson: f.tokenizerJson, tokenizerConfig: f.tokenizerConfig, tokenizer: tok }, config);
  return { kv: readGguf(await writeGgufToBytes(t.metadata, [])).metadata, tok, warnings: t.warnings };
}

describe.each(['llama3', 'qwen3', 'gemma3', 'demo'])('%s tokenizer metadata', (name) => {
  it('round-trips: the GGUF\'s vocabulary tokenizes every test text as tokenizer.json does', async () => {
    const { kv, tok, warnings } = await exported(name);
    expect(warnings).toEqual([]);
    expect((kv.get('tokenizer.ggml.tokens') as string[]).length).toBe(VOCAB[name]);
    const rebuilt = new Tokenizer(rebuildTokenizerJson(kv), {});
    const texts = [...llamaCppCases(name === 'qwen3' ? 'qwen2' : 'llama-bpe').map((c) => c.text), ...EXTRA];
    const differ = texts.filter((t) => JSON.stringify(rebuilt.encode(t, { add_special_tokens: false }).ids) !== JSON.stringify(tok.encode(t, { addSpecialTokens: false })));
    expect(differ).toEqual([]);
  }, 60_000);
});

describe('special tokens, types and templates', () => {
  it('Llama 3: gpt2 with the llama-bpe pre-tokenizer, BOS added, control tokens', async () => {
    const { kv } = await exported('llama3');
    expect(kv.get('tokenizer.ggml.model')).toBe('gpt2');
    expect(kv.get('tokenizer.ggml.pre')).toBe('llama-bpe');
    expect(kv.get('tokenizer.ggml.bos_token_id')).toBe(128000);
    expect(kv.get('tokenizer.ggml.eos_token_id')).toBe(128001);
    expect(kv.get('tokenizer.ggml.add_bos_token')).toBe(true);
    expect((kv.get('tokenizer.ggml.token_type') as number[])[128009]).toBe(TokenType.CONTROL);
    expect((kv.get('tokenizer.ggml.merges') as string[])[0]).toBe('Ġ Ġ');
  });

  it('Qwen3: the qwen2 pre-tokenizer, no BOS added, padding rows and user-defined <think>', async () => {
    const { kv } = await exported('qwen3');
    expect(kv.get('tokenizer.ggml.pre')).toBe('qwen2');
    expect(kv.get('tokenizer.ggml.add_bos_token')).toBe(false);
    expect(kv.get('tokenizer.ggml.bos_token_id')).toBe(151643); // config.json's, as the converter reads it
    expect(kv.get('tokenizer.ggml.eos_token_id')).toBe(151645);
    const tokens = kv.get('tokenizer.ggml.tokens') as string[];
    const types = kv.get('tokenizer.ggml.token_type') as number[];
    expect([tokens[151935], types[151935]]).toEqual(['[PAD151935]', TokenType.UNUSED]);
    expect([tokens[151667], types[151667]]).toEqual(['<think>', TokenType.USER_DEFINED]);
    expect(kv.get('tokenizer.chat_template')).toContain('<|im_start|>');
  });

  it('Gemma 3: SentencePiece-style with scores, bytes and no space prefix; the image token past the table is left out', async () => {
    const { kv } = await exported('gemma3');
    expect(kv.get('tokenizer.ggml.model')).toBe('llama');
    expect(kv.get('tokenizer.ggml.add_space_prefix')).toBe(false);
    expect(kv.get('tokenizer.ggml.bos_token_id')).toBe(2);
    expect(kv.get('tokenizer.ggml.unknown_token_id')).toBe(3);
    const tokens = kv.get('tokenizer.ggml.tokens') as string[];
    const types = kv.get('tokenizer.ggml.token_type') as number[];
    const scores = kv.get('tokenizer.ggml.scores') as number[];
    const byte = tokens.indexOf('<0x41>');
    expect(types[byte]).toBe(TokenType.BYTE);
    expect(types[tokens.indexOf('<start_of_turn>')]).toBe(TokenType.CONTROL);
    expect(tokens).not.toContain('<image_soft_token>');
    expect(scores.length).toBe(262144);
  });

  it('refuses a tokenizer with ids past the embedding', async () => {
    const f = files('llama3');
    const tok = tokenizerOf('llama3');
    const config = parseModelConfig({ vocab_size: 1000, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, ...ARCH.llama3 });
    expect(() => tokenizerMetadata({ tokenizerJson: f.tokenizerJson, tokenizerConfig: f.tokenizerConfig, tokenizer: tok }, config))
      .toThrow(/vocabulary ids past the model's vocab_size 1000/);
  });
});
