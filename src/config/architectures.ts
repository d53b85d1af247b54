/**
 * Which Hugging Face architectures the studio can train, and the checks that keep everything else
 * out with a message a person can act on. All supported architectures are the decoder of
 * src/reference (RMSNorm, rotate-half RoPE, GQA attention, gated MLP); they differ in q/k/v biases,
 * tied embeddings, RoPE scaling, sliding windows, and the features of ./architecture-features.ts
 * (Qwen3's and Gemma's per-head q/k norms, Gemma's (1 + w) sandwich norms, GeGLU, scaled embeddings).
 */
import type { RopeScaling } from './rope';
import { ModelConfigError } from './model-config-error';
import { closestArchitectures } from './closest-architecture';

export type ModelType = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'gemma2' | 'gemma3_text';

export interface ArchitectureInfo {
  /** The `architectures[0]` class name, e.g. "LlamaForCausalLM". */
  architecture: string;
  /** `model_type` of the family. */
  modelType: ModelType;
  /** Models of this architecture people know it by, for messages and the UI. */
  knownAs: string;
}

export const SUPPORTED_ARCHITECTURES: readonly ArchitectureInfo[] = [
  { architecture: 'LlamaForCausalLM', modelType: 'llama', knownAs: 'Llama 1/2/3, SmolLM, SmolLM2, TinyLlama' },
  { architecture: 'MistralForCausalLM', modelType: 'mistral', knownAs: 'Mistral' },
  { architecture: 'Qwen2ForCausalLM', modelType: 'qwen2', knownAs: 'Qwen2, Qwen2.5' },
  { architecture: 'Qwen3ForCausalLM', modelType: 'qwen3', knownAs: 'Qwen3 (dense)' },
  { architecture: 'Gemma3ForCausalLM', modelType: 'gemma3_text', knownAs: 'Gemma 3 text (270M, 1B)' },
  { architecture: 'Gemma2ForCausalLM', modelType: 'gemma2', knownAs: 'Gemma 2' },
];

/** Gemma families: (1 + w) sandwich norms, GeGLU, scaled embeddings, query_pre_attn_scalar. */
export const isGemma = (t: ModelType): boolean => t === 'gemma2' || t === 'gemma3_text';

const described = (a: ArchitectureInfo): string => `${a.architecture} (${a.knownAs})`;
const supportedList = (): string => SUPPORTED_ARCHITECTURES.map(described).join(', ');

/** "; the closest supported is ..." naming the supported architectures nearest by name, or '' when none is close. */
function closestNote(names: (string | undefined)[]): string {
  const near = closestArchitectures(names, SUPPORTED_ARCHITECTURES);
  if (near.length === 0) return '';
  const list = near.map(described);
  return `; the closest supported ${list.length > 1 ? `are ${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}` : `is ${list[0]}`}`;
}

/**
 * The architecture of a config.json: `architectures[0]` when given (that is what transformers
 * instantiates), else `model_type`. Throws ModelConfigError naming it, listing the supported ones
 * and, when one is close by name (Qwen3Moe -> Qwen3), the closest.
 */
export function resolveArchitecture(json: Record<string, unknown>): ArchitectureInfo {
  const archs = json.architectures;
  const modelType = typeof json.model_type === 'string' ? json.model_type : undefined;
  if (Array.isArray(archs) && archs.length > 0) {
    const name = archs[0];
    const info = SUPPORTED_ARCHITECTURES.find((a) => a.architecture === name);
    if (!info) {
      const type = modelType ? ` (model_type "${modelType}")` : '';
      throw new ModelConfigError(`config.json: architecture "${String(name)}"${type} is not supported; supported: ${supportedList()}${closestNote([String(name), modelType])}`);
    }
    if (modelType && modelType !== info.modelType) {
      throw new ModelConfigError(`config.json: architecture "${info.architecture}" does not match model_type "${modelType}" (expected "${info.modelType}"); the config is inconsistent`);
    }
    return info;
  }
  // No `architectures`: legacy configs name only the model type (and the oldest, neither).
  const info = SUPPORTED_ARCHITECTURES.find((a) => a.modelType === (modelType ?? 'llama'));
  if (!info) throw new ModelConfigError(`config.json: model_type "${modelType}" is not supported; supported: ${supportedList()}${closestNote([modelType])}`);
  return info;
}

/** Fields whose presence means a mixture of experts (Mixtral, Qwen2-MoE, DeepSeek ...). */
const MOE_FIELDS = ['num_local_experts', 'num_experts', 'n_routed_experts', 'num_experts_per_tok'];

/**
 * Features of a supported architecture that the training graph does not implement. Each is a
 * ModelConfigError naming the field, so a person knows why their variant is refused.
 */
export function checkArchitectureFeatures(json: Record<string, unknown>, info: ArchitectureInfo): void {
  const bad = (msg: string) => new ModelConfigError(`config.json: ${msg}`);
  for (const f of MOE_FIELDS) {
    const v = json[f];
    if (typeof v === 'number' && v > 0) throw bad(`"${f}": ${v} describes a mixture-of-experts model, which is not supported; supported: ${supportedList()}`);
  }
  const act = mlpActivationOf(json, info);
  if (act === null) {
    const want = isGemma(info.modelType) ? 'gelu_pytorch_tanh (GeGLU)' : 'silu (SwiGLU)';
    throw bad(`hidden_act "${String(json.hidden_activation ?? json.hidden_act)}" is not supported on ${info.architecture} (its MLP is ${want})`);
  }
  if (json.mlp_bias === true) throw bad('mlp_bias: true (biases on gate/up/down_proj) is not supported');
  if (json.use_bidirectional_attention === true) throw bad('use_bidirectional_attention: true (an encoder, not a causal language model) is not supported');
  if (info.modelType !== 'qwen2' && json.attention_bias === true) {
    throw bad(`attention_bias: true on ${info.architecture} also puts a bias on o_proj, which is not supported`);
  }
  const prf = json.partial_rotary_factor;
  if (prf !== undefined && prf !== null && prf !== 1) throw bad(`partial_rotary_factor ${String(prf)} is not supported (RoPE must cover the whole head)`);
}

/**
 * The MLP activation a config asks for, or null when this architecture cannot run it. Gemma names it
 * `hidden_activation` (and older Gemma configs also carry an ignored `hidden_act`).
 */
export function mlpActivationOf(json: Record<string, unknown>, info: ArchitectureInfo): 'silu' | 'gelu_tanh' | null {
  if (isGemma(info.modelType)) {
    const act = json.hidden_activation ?? json.hidden_act ?? 'gelu_pytorch_tanh';
    return act === 'gelu_pytorch_tanh' ? 'gelu_tanh' : null;
  }
  const act = json.hidden_act ?? json.hidden_activation ?? 'silu';
  return act === 'silu' || act === 'swish' ? 'silu' : null;
}

/** The supported `rope_scaling` types; null/"default" and "dynamic" need no table change (see RopeScaling). */
export function parseRopeScaling(raw: unknown): RopeScaling | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ModelConfigError('config.json: rope_scaling must be an object or null');
  const r = raw as Record<string, unknown>;
  const type = r.rope_type ?? r.type ?? 'default';
  const num = (key: string, min: number): number => {
    const v = r[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      throw new ModelConfigError(`config.json: rope_scaling.${key} must be a number >= ${min} for rope_type "${String(type)}", got ${JSON.stringify(v)}`);
    }
    return v;
  };
  switch (type) {
    case 'default':
    case 'dynamic':
      return null;
    case 'linear':
      return { type: 'linear', factor: num('factor', 1) };
    case 'llama3': {
      const s = {
        type: 'llama3' as const, factor: num('factor', 1), lowFreqFactor: num('low_freq_factor', 0),
        highFreqFactor: num('high_freq_factor', 0), originalMaxPositionEmbeddings: num('original_max_position_embeddings', 1),
      };
      if (s.highFreqFactor <= s.lowFreqFactor) {
        throw new ModelConfigError(`config.json: rope_scaling.high_freq_factor (${s.highFreqFactor}) must be greater than low_freq_factor (${s.lowFreqFactor})`);
      }
      return s;
    }
    default:
      throw new ModelConfigError(`config.json: rope_scaling type "${String(type)}" is not supported (supported: default, linear, dynamic, llama3)`);
  }
}

/**
 * Refuse a training sequence length the model cannot attend over the way it was trained: past
 * max_position_embeddings (RoPE extrapolation; dynamic scaling would change the frequencies).
 * Sliding windows are applied by the attention kernels, so a longer sequence is fine there.
 */
export function checkSequenceLength(
  model: { maxPositionEmbeddings: number },
  maxSeqLen: number,
): void {
  if (maxSeqLen > model.maxPositionEmbeddings) {
    throw new ModelConfigError(
      `maxSeqLen ${maxSeqLen} is longer than the model's max_position_embeddings (${model.maxPositionEmbeddings}); lower maxSeqLen to at most ${model.maxPositionEmbeddings}`,
    );
  }
}

/**
 * Upper bounds far above any released model. A config beyond them is corrupt (or hostile) and is
 * refused before anything is sized from it.
 */
export const CONFIG_LIMITS = {
  vocab_size: 1 << 22, // 4M (the largest real vocabularies are ~256k)
  hidden_size: 1 << 16,
  intermediate_size: 1 << 18,
  num_hidden_layers: 1024,
  num_attention_heads: 1024,
  num_key_value_heads: 1024,
  head_dim: 1024,
  max_position_embeddings: 1 << 24,
} as const;

/** Base parameters above this (1e12) are refused: no checkpoint a browser can hold comes close. */
export const MAX_BASE_PARAMS = 1e12;

export function checkConfigLimits(json: Record<string, unknown>): void {
  for (const [key, max] of Object.entries(CONFIG_LIMITS)) {
    const v = json[key];
    if (typeof v === 'number' && v > max) {
      throw new ModelConfigError(`config.json: ${key} ${v} is beyond any real model (at most ${max}); the file is corrupt or not a model config`);
    }
  }
}
