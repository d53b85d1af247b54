import type { LoraConfig } from './lora-config';
import type { ModuleName } from './lora-targets';

/** One adapted linear module: `y += (x A^T) B^T * scaling`. */
export interface LoraTensor {
  /** State-dict path of the base module, e.g. `model.layers.0.self_attn.q_proj`. */
  path: string;
  module: ModuleName;
  /** Decoder layer index; null for `lm_head`. */
  layer: number | null;
  /** Rank and alpha of this module (after rank_pattern / alpha_pattern). */
  r: number;
  alpha: number;
  inFeatures: number;
  outFeatures: number;
  /** (r, in) row-major. */
  A: Float32Array;
  /** (out, r) row-major. */
  B: Float32Array;
  /** DoRA only (config.useDora): lora_magnitude_vector (out). */
  M?: Float32Array;
}

export interface PeftAdapter {
  config: LoraConfig;
  /** `base_model_name_or_path`; '' when unknown. */
  baseModel: string;
  tensors: LoraTensor[];
}
