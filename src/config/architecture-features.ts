/**
 * What sets the Qwen3 and Gemma families apart from the Llama decoder, as ModelConfig fields with
 * Llama's behaviour as the default, and the per-layer facts derived from them. Every layer of the
 * product (CPU reference, GPU graph, generation, merge, memory plan, parameter counts) reads these
 * through the functions here, never from the raw fields, so a default is decided in one place.
 *
 * Layer dataflow, Llama (pre-norm):
 *   h = x + o(attn(norm1(x)))                      norm1 = input_layernorm
 *   out = h + down(act(gate(norm2(h))) * up(norm2(h)))   norm2 = post_attention_layernorm
 * Gemma 2/3 ("sandwich" norms; note that post_attention_layernorm means something else here):
 *   h = x + post_attention_layernorm(o(attn(input_layernorm(x))))
 *   out = h + post_feedforward_layernorm(mlp(pre_feedforward_layernorm(h)))
 * Qwen3 and Gemma 3 also norm each query and key head (q_norm, k_norm over head_dim) after the
 * projection and before RoPE.
 */
import type { RopeSpec } from './rope';

/** The architecture fields of ModelConfig (all optional: absent means Llama's behaviour). */
export interface ArchitectureFeatures {
  /** Per-head RMSNorm of q and k after the projection, before RoPE (`self_attn.q_norm.weight`, `self_attn.k_norm.weight`, each (D)). Qwen3, Gemma 3. */
  qkNorm?: boolean;
  /** Every RMSNorm scales by (1 + w) instead of w (Gemma's checkpoints store w - 1). */
  normPlusOne?: boolean;
  /** Gemma's four norms per layer (see the header) instead of Llama's two. */
  sandwichNorms?: boolean;
  /** The MLP's gate activation: silu (SwiGLU) or the tanh approximation of GELU (GeGLU, Gemma). */
  mlpActivation?: 'silu' | 'gelu_tanh';
  /**
   * Multiplier of the embedding output (Gemma: sqrt(hidden_size) rounded to the checkpoint's dtype,
   * as the reference implementation computes it); 1 elsewhere. A tied LM head reads the unscaled table.
   */
  embedScale?: number;
  /** Gemma's `query_pre_attn_scalar`: scores are scaled by its -1/2 power instead of head_dim's. */
  queryPreAttnScalar?: number;
  /**
   * Per layer: 'sliding' (query i sees keys i - slidingWindow < j <= i) or 'full' (causal). Absent:
   * every layer is 'sliding' when `slidingWindow` is set, else 'full'.
   */
  layerTypes?: readonly ('full' | 'sliding')[];
  /** RoPE base of the sliding layers (Gemma 3's `rope_local_base_freq`, no scaling); absent: the global RoPE. */
  localRopeTheta?: number;
  /** tanh capping of attention scores, c * tanh(s / c) (Gemma 2); absent or null: none. */
  attnLogitSoftcap?: number | null;
  /** tanh capping of the final logits (Gemma 2); absent or null: none. */
  finalLogitSoftcap?: number | null;
}

/** What the per-layer functions need of a config. */
export interface ArchitectureShape extends ArchitectureFeatures {
  numLayers: number;
  headDim: number;
  ropeTheta: number;
  ropeScaling?: RopeSpec['scaling'];
  slidingWindow?: number | null;
}

/** The softmax scale of attention scores. */
export function attentionScale(c: ArchitectureShape): number {
  return 1 / Math.sqrt(c.queryPreAttnScalar ?? c.headDim);
}

/** The attention window of layer `l` in tokens, or null for full causal attention. */
export function layerWindow(c: ArchitectureShape, l: number): number | null {
  if (!c.slidingWindow) return null;
  const type = c.layerTypes ? c.layerTypes[l] : 'sliding';
  return type === 'sliding' ? c.slidingWindow : null;
}

/** The RoPE of layer `l`: local layers may have their own base (Gemma 3). */
export function layerRope(c: ArchitectureShape, l: number): RopeSpec {
  if (c.localRopeTheta !== undefined && layerWindow(c, l) !== null) return { theta: c.localRopeTheta, scaling: null };
  return { theta: c.ropeTheta, scaling: c.ropeScaling ?? null };
}

/** The distinct RoPE specs of a model and, per layer, which one it uses (one table per spec on the GPU). */
export function ropeSpecsByLayer(c: ArchitectureShape): { specs: RopeSpec[]; ofLayer: number[] } {
  const specs: RopeSpec[] = [];
  const keys: string[] = [];
  const ofLayer: number[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const s = layerRope(c, l);
    const key = JSON.stringify(s);
    let i = keys.indexOf(key);
    if (i < 0) {
      i = keys.push(key) - 1;
      specs.push(s);
    }
    ofLayer.push(i);
  }
  return { specs, ofLayer };
}

/** The norm weights of one decoder layer (names under `model.layers.<l>.`), each (hidden) unless noted. */
export function layerNormNames(c: ArchitectureFeatures): string[] {
  const names = c.sandwichNorms
    ? ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm']
    : ['input_layernorm', 'post_attention_layernorm'];
  return names.map((n) => `${n}.weight`);
}

/** The per-head norm weights of one layer, each (head_dim); empty without qkNorm. */
export function headNormNames(c: ArchitectureFeatures): string[] {
  return c.qkNorm ? ['self_attn.q_norm.weight', 'self_attn.k_norm.weight'] : [];
}

/** The value an RMSNorm multiplies by, from the stored weight w. */
export const normScale = (c: ArchitectureFeatures, w: number): number => (c.normPlusOne ? 1 + w : w);
