/** The shape a Hugging Face Llama-family (incl. Qwen3, Gemma) checkpoint gives each of its tensors, from config.json. */
import type { ModelConfig } from '../../config/model-config';
import { MODULE_NAMES, moduleShape, type ModuleName } from '../../config/lora-targets';

const LAYER = /^model\.layers\.(\d+)\.(?:self_attn|mlp)\.([a-z_]+)\.(weight|bias)$/;
const NORM = /^model\.layers\.(\d+)\.(?:input_layernorm|post_attention_layernorm|pre_feedforward_layernorm|post_feedforward_layernorm)\.weight$/;
/** Qwen3's and Gemma 3's per-head norms, each (head_dim). */
const HEAD_NORM = /^model\.layers\.(\d+)\.self_attn\.(?:q_norm|k_norm)\.weight$/;

/** [rows, cols] (or [n]) of a tensor name, or null for a name the config says nothing about. */
export function expectedShape(name: string, c: ModelConfig): number[] | null {
  const V = c.vocabSize;
  const C = c.hiddenSize;
  if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return [V, C];
  if (name === 'model.norm.weight' || NORM.test(name)) return [C];
  if (HEAD_NORM.test(name)) return [c.headDim];
  const m = LAYER.exec(name);
  if (m && (MODULE_NAMES as readonly string[]).includes(m[2]) && m[2] !== 'lm_head') {
    const s = moduleShape(m[2] as ModuleName, c);
    return m[3] === 'weight' ? [s.out, s.in] : [s.out];
  }
  return null;
}
