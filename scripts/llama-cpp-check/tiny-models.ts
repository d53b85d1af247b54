/**
 * Tiny models in Hugging Face layout for the GGUF checks: random weights (src/model/synthetic.ts),
 * config.json, the demo's byte-level tokenizer (259 tokens; the embedding has 320 rows, the rest
 * padding), and a random PEFT adapter folder. Sizes are multiples of 32 so every matrix can be
 * Q8_0 / Q4_0. The acceptance's three: an untied Llama (with an lm_head LoRA), a tied Llama, and a
 * Qwen2 (q/k/v biases; rsLoRA, a rank_pattern and an alpha_pattern, so PEFT's scales must be folded
 * into lora_B); and a Qwen3 and a Gemma 3 besides.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PeftAdapter } from '../../src/config/adapter';
import { loraRankAlpha, loraScaling, type LoraConfig } from '../../src/config/lora-config';
import { MODULE_NAMES, modulePath, moduleShape, type ModuleName } from '../../src/config/lora-targets';
import type { ModelConfig } from '../../src/config/model-config';
import { Prng } from '../../src/core/rng';
import { exportPeftAdapter } from '../../src/io/peft';
import { writeSafetensors } from '../../src/io/safetensors';
import { parseModelConfig } from '../../src/config/model-config';
import { tinyWeights } from '../../src/model/synthetic';
import type { LoraWeights } from '../../src/reference';

export type TinyKind = 'llama-untied' | 'llama-tied' | 'qwen2' | 'qwen3' | 'gemma3';
/** The acceptance's three, then Qwen3 (q/k norms) and Gemma 3 (norms + 1, GeGLU, scaled embeddings, a sliding window of 8 on 5 of 6 layers). */
export const TINY_KINDS: TinyKind[] = ['llama-untied', 'llama-tied', 'qwen2', 'qwen3', 'gemma3'];

export interface TinyModel {
  kind: TinyKind;
  config: ModelConfig;
  weights: Map<string, Float32Array<ArrayBuffer>>;
  adapter: PeftAdapter;
  modelDir: string;
  adapterDir: string;
}

/** config.json of each tiny model. */
export function hfConfigJson(kind: TinyKind): Record<string, unknown> {
  const common = {
    vocab_size: 320, hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
    head_dim: 16, max_position_embeddings: 256, bos_token_id: 1, eos_token_id: 2, torch_dtype: 'float32',
  };
  switch (kind) {
    case 'llama-untied':
    case 'llama-tied':
      return { architectures: ['LlamaForCausalLM'], model_type: 'llama', ...common, hidden_act: 'silu', rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: kind === 'llama-tied' };
    case 'qwen2':
    case 'qwen3':
      return {
        architectures: [kind === 'qwen2' ? 'Qwen2ForCausalLM' : 'Qwen3ForCausalLM'], model_type: kind, ...common,
        hidden_act: 'silu', rms_norm_eps: 1e-6, rope_theta: 1_000_000, tie_word_embeddings: kind === 'qwen3',
      };
    case 'gemma3':
      return {
        architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', ...common, num_hidden_layers: 6, num_key_value_heads: 1,
        hidden_activation: 'gelu_pytorch_tanh', rms_norm_eps: 1e-6, rope_theta: 1_000_000, rope_local_base_freq: 10000,
        query_pre_attn_scalar: 16, sliding_window: 8, sliding_window_pattern: 6, tie_word_embeddings: true,
      };
  }
}

export function tinyConfig(kind: TinyKind, overrides: Record<string, unknown> = {}): ModelConfig {
  return parseModelConfig({ ...hfConfigJson(kind), ...overrides });
}

/** A random adapter: all seven linear modules (and lm_head when untied); B non-zero so the LoRA shows. */
export function tinyAdapter(kind: TinyKind, c: ModelConfig, seed = 5): PeftAdapter {
  const rng = new Prng(seed, 23);
  const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => scale * (2 * rng.nextFloat() - 1));
  const modules: ModuleName[] = MODULE_NAMES.filter((m) => m !== 'lm_head' || kind === 'llama-untied');
  const config: LoraConfig = {
    r: 4, alpha: 8, dropout: 0, useRslora: kind === 'qwen2', targetModules: modules,
    rankPattern: kind === 'qwen2' ? { v_proj: 2 } : {}, alphaPattern: kind === 'qwen2' ? { o_proj: 3 } : {},
  };
  const tensors: PeftAdapter['tensors'] = [];
  for (let layer = 0; layer < c.numLayers; layer++) {
    for (const module of modules) {
      if (module === 'lm_head' && layer > 0) continue;
      const path = modulePath(module, layer);
      const { r, alpha } = loraRankAlpha(config, path);
      const s = moduleShape(module, c);
      tensors.push({
        path, module, layer: module === 'lm_head' ? null : layer, r, alpha, inFeatures: s.in, outFeatures: s.out,
        A: rand(r * s.in, 1 / Math.sqrt(s.in)), B: rand(s.out * r, 0.15),
      });
    }
  }
  return { config, baseModel: `tiny-${kind}`, tensors };
}

/** The reference's LoRA map of an adapter (PEFT scaling). */
export function loraOf(a: PeftAdapter): LoraWeights {
  return new Map(a.tensors.map((t) => [t.path, { A: t.A, B: t.B, r: t.r, scale: loraScaling(t.r, t.alpha, a.config.useRslora) }]));
}

export interface TinyModelOptions {
  /** Where the demo's tokenizer files are (default public/demo, from the repository root). */
  demoDir?: string;
  /** config.json fields to change (sizes, windows ...). */
  configOverrides?: Record<string, unknown>;
  /** Folder name under root (default: the kind). */
  dirName?: string;
}

/** Write the model folder (`<root>/<name>`) and the adapter folder (`<root>/<name>-adapter`). */
export function writeTinyModel(root: string, kind: TinyKind, opts: TinyModelOptions = {}): TinyModel {
  const json = { ...hfConfigJson(kind), ...opts.configOverrides };
  const config = parseModelConfig(json);
  const weights = tinyWeights(config, TINY_KINDS.indexOf(kind) + 11);
  const modelDir = join(root, opts.dirName ?? kind);
  const adapterDir = join(root, `${opts.dirName ?? kind}-adapter`);
  mkdirSync(modelDir, { recursive: true });
  mkdirSync(adapterDir, { recursive: true });
  writeFileSync(join(modelDir, 'config.json'), JSON.stringify(json, null, 2));
  writeFileSync(join(modelDir, 'model.safetensors'), writeSafetensors(
    [...weights].map(([name, data]) => ({ name, dtype: 'F32' as const, shape: shapeOf(name, config), data })), { format: 'pt' },
  ));
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(opts.demoDir ?? 'public/demo', f), join(modelDir, f));
  const adapter = tinyAdapter(kind, config);
  const files = exportPeftAdapter(adapter);
  writeFileSync(join(adapterDir, 'adapter_model.safetensors'), files.weights);
  writeFileSync(join(adapterDir, 'adapter_config.json'), files.configJson);
  return { kind, config, weights, adapter, modelDir, adapterDir };
}

function shapeOf(name: string, c: ModelConfig): number[] {
  if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return [c.vocabSize, c.hiddenSize];
  const m = /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.(weight|bias)$/.exec(name);
  if (m) {
    const s = moduleShape(m[1] as ModuleName, c);
    return m[2] === 'bias' ? [s.out] : [s.out, s.in];
  }
  if (/(q_norm|k_norm)\.weight$/.test(name)) return [c.headDim];
  return [c.hiddenSize];
}
