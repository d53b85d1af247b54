/**
 * A random model with the shape of a real Hugging Face config (Qwen2.5-0.5B's, whole or scaled
 * down), stored as the real checkpoint is (bf16 safetensors, tied embeddings, q/k/v biases), over
 * the demo's byte-level tokenizer (259 ids): what a person loads from the Hub, without the download.
 * The memory tests run five trainings on it in a row; an opt-in run uses the whole 0.5B shape.
 */
import { readFileSync } from 'node:fs';
import { layerNormNames, headNormNames } from '../../src/config/architecture-features';
import { MODULE_NAMES, modulePath, moduleShape } from '../../src/config/lora-targets';
import { parseModelConfig } from '../../src/config/model-config';
import { safetensorsLayout } from '../../src/io/safetensors/stream';
import { chainDataset } from '../../src/model/synthetic';
import { BOS, EOS, tokenizerConfigJson, tokenizerJson, VOCAB_SIZE } from '../../scripts/make-demo/tokenizer-files';

/** Qwen2.5-0.5B's config.json as published (hidden 896, 24 layers, vocabulary 151936, bf16). */
export function qwen25HalfBConfig(): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL('../fixtures/configs/qwen2.5-0.5b.json', import.meta.url), 'utf8')) as Record<string, unknown>;
}

/**
 * The 0.5B config scaled down (same family, head layout, tied embeddings, biases, bf16), with the
 * demo tokenizer's special ids. The default is about 4 MB of weights: hidden 128 (4 heads of 32,
 * 1 KV head pair), 4 layers, MLP 688, vocabulary 2048.
 */
export function qwenScaledConfig(over: { hidden?: number; layers?: number; vocab?: number; intermediate?: number } = {}): Record<string, unknown> {
  const hidden = over.hidden ?? 128;
  return {
    ...qwen25HalfBConfig(),
    hidden_size: hidden, num_attention_heads: hidden / 32, num_key_value_heads: Math.max(1, hidden / 64),
    intermediate_size: over.intermediate ?? Math.round((hidden * 4864) / 896 / 8) * 8,
    num_hidden_layers: over.layers ?? 4, max_window_layers: over.layers ?? 4, vocab_size: over.vocab ?? 2048,
    max_position_embeddings: 512, bos_token_id: BOS, eos_token_id: EOS,
  };
}

/** A tiny xorshift: bf16 bits of uniform values in (-scale, scale), fast enough for 500M weights. */
function fillBf16(out: Uint16Array, scale: number, offset: number, state: { s: number }): void {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let s = state.s;
  for (let i = 0; i < out.length; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    f[0] = offset + scale * ((s >>> 0) / 2 ** 31 - 1);
    out[i] = u[0] >>> 16;
  }
  state.s = s;
}

/** The tensors of a checkpoint of this config, with their shapes and the scale of their values. */
function tensorsOf(hf: Record<string, unknown>): { name: string; shape: number[]; scale: number; offset: number }[] {
  const c = parseModelConfig(hf);
  const out: { name: string; shape: number[]; scale: number; offset: number }[] = [];
  // A trained model's scale (std about 0.02): logits stay moderate through the tied head.
  out.push({ name: 'model.embed_tokens.weight', shape: [c.vocabSize, c.hiddenSize], scale: 0.035, offset: 0 });
  for (let l = 0; l < c.numLayers; l++) {
    for (const n of layerNormNames(c)) out.push({ name: `model.layers.${l}.${n}`, shape: [c.hiddenSize], scale: 0.1, offset: 1 });
    for (const n of headNormNames(c)) out.push({ name: `model.layers.${l}.${n}`, shape: [c.headDim], scale: 0.1, offset: 1 });
    for (const m of MODULE_NAMES) {
      if (m === 'lm_head') continue;
      const s = moduleShape(m, c);
      out.push({ name: `${modulePath(m, l)}.weight`, shape: [s.out, s.in], scale: 1.2 / Math.sqrt(s.in), offset: 0 });
      if (c.attentionBias && (m === 'q_proj' || m === 'k_proj' || m === 'v_proj')) out.push({ name: `${modulePath(m, l)}.bias`, shape: [s.out], scale: 0.2, offset: 0 });
    }
  }
  out.push({ name: 'model.norm.weight', shape: [c.hiddenSize], scale: 0.1, offset: 1 });
  if (!c.tieWordEmbeddings) out.push({ name: 'lm_head.weight', shape: [c.vocabSize, c.hiddenSize], scale: 1.2 / Math.sqrt(c.hiddenSize), offset: 0 });
  return out;
}

/** model.safetensors of random bf16 weights for `hf`, written straight into one buffer. */
export function randomBf16Safetensors(hf: Record<string, unknown>, seed = 1): Uint8Array<ArrayBuffer> {
  const tensors = tensorsOf(hf);
  const layout = safetensorsLayout(tensors.map((t) => ({ name: t.name, dtype: 'BF16', shape: t.shape })), { format: 'pt' });
  const file = new Uint8Array(layout.totalBytes);
  file.set(layout.header, 0);
  let at = layout.header.byteLength;
  const state = { s: (seed * 2654435761) >>> 0 || 1 };
  tensors.forEach((t, i) => {
    fillBf16(new Uint16Array(file.buffer, at, layout.sizes[i] / 2), t.scale, t.offset, state);
    at += layout.sizes[i];
  });
  return file;
}

/** The repo's files: config.json, model.safetensors (bf16), tokenizer.json, tokenizer_config.json. */
export function qwenShapedFiles(hf: Record<string, unknown>, seed = 1): Record<string, Uint8Array> {
  const vocab = Number(hf.vocab_size);
  if (vocab < VOCAB_SIZE) throw new Error(`the demo tokenizer needs a vocabulary of at least ${VOCAB_SIZE}, got ${vocab}`);
  const text = (v: unknown) => new TextEncoder().encode(JSON.stringify(v, null, 2));
  return {
    'config.json': text(hf),
    'tokenizer.json': text(tokenizerJson()),
    'tokenizer_config.json': text(tokenizerConfigJson()),
    'model.safetensors': randomBf16Safetensors(hf, seed),
  };
}

/** A learnable pre-tokenized dataset over the demo tokenizer's ids, as JSONL ({"tokens": [...]} per line). */
export function tokenDatasetJsonl(examples = 32, len = 33): string {
  return chainDataset(VOCAB_SIZE, examples, len).map((e) => JSON.stringify({ tokens: e.ids })).join('\n') + '\n';
}
