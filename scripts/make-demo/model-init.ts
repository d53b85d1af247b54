/**
 * The demo model's shape (a tiny Llama: 2 layers, hidden 64, 4 query heads sharing 2 key/value
 * heads, byte-level vocabulary of 259 padded to 320) and its seeded initial weights under Hugging Face names.
 *
 * Pretraining only trains the linear layers and the head (through LoRA, see relora.ts), so the
 * embedding and the norms keep their initial values: norms 1; embeddings N(0, 1) here, which
 * main.ts replaces with codes from the corpus (embed-init.ts); linear layers N(0, 0.02) as
 * transformers' LlamaConfig.initializer_range.
 */
import type { ModelConfig } from '../../src/config/model-config';
import { modulePath, moduleShape } from '../../src/config/lora-targets';
import { LAYER_LINEARS } from '../../src/model/graph/base-weights';
import { Prng } from '../../src/core/rng';
import { BOS, EOS, PAD, VOCAB_SIZE } from './tokenizer-files';

/**
 * Rows of the embedding and the head: the tokenizer's 259 padded to a multiple of 64, as model
 * vocabularies usually are (ids 259-319 are never produced). LoRA on lm_head with V = 259 made the
 * engine's memory grow by gigabytes per minute on SwiftShader; 320 does not.
 */
export const MODEL_VOCAB = Math.ceil(VOCAB_SIZE / 64) * 64;

export const DEMO_CONFIG_JSON = {
  architectures: ['LlamaForCausalLM'],
  model_type: 'llama',
  vocab_size: MODEL_VOCAB,
  hidden_size: 64,
  intermediate_size: 176,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 16,
  hidden_act: 'silu',
  max_position_embeddings: 256,
  rms_norm_eps: 1e-5,
  rope_theta: 10000,
  rope_scaling: null,
  attention_bias: false,
  attention_dropout: 0,
  mlp_bias: false,
  tie_word_embeddings: false,
  initializer_range: 0.02,
  bos_token_id: BOS,
  eos_token_id: EOS,
  pad_token_id: PAD,
  torch_dtype: 'float32',
  use_cache: true,
};

/** Standard normal draws (Box–Muller) from one Philox stream. */
function normal(rng: Prng, n: number, std: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = 1 - rng.nextDouble(); // (0, 1]
    const v = rng.nextDouble();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Every tensor of the model (state-dict order), seeded. */
export function initialWeights(c: ModelConfig, seed: number): Map<string, Float32Array<ArrayBuffer>> {
  const rng = new Prng(seed, 3);
  const w = new Map<string, Float32Array<ArrayBuffer>>();
  const C = c.hiddenSize;
  w.set('model.embed_tokens.weight', normal(rng, c.vocabSize * C, 1));
  for (let l = 0; l < c.numLayers; l++) {
    w.set(`model.layers.${l}.input_layernorm.weight`, new Float32Array(C).fill(1));
    for (const m of LAYER_LINEARS) {
      const { out, in: In } = moduleShape(m, c);
      w.set(`${modulePath(m, l)}.weight`, normal(rng, out * In, 0.02));
    }
    w.set(`model.layers.${l}.post_attention_layernorm.weight`, new Float32Array(C).fill(1));
  }
  w.set('model.norm.weight', new Float32Array(C).fill(1));
  w.set('lm_head.weight', normal(rng, c.vocabSize * C, 0.02));
  return w;
}

/** [out, in] (or [n]) of each tensor, as the safetensors header records it. */
export function tensorShape(c: ModelConfig, name: string): number[] {
  if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return [c.vocabSize, c.hiddenSize];
  if (name.endsWith('norm.weight')) return [c.hiddenSize];
  const m = LAYER_LINEARS.find((x) => name.endsWith(`.${x}.weight`));
  if (!m) throw new Error(`unknown tensor ${name}`);
  const { out, in: In } = moduleShape(m, c);
  return [out, In];
}
