import { backward } from './model-backward';
import { forward, type ForwardOptions } from './model';
import type { RefModel } from './projection';
import type { FloatArray } from './types';

/**
 * Full finetuning's loss and gradients: every base tensor the forward reads is a parameter, so the
 * gradient of each comes back under its Hugging Face name (`model.layers.0.self_attn.q_proj.bias`,
 * `lm_head.weight` when untied; a tied head's gradient is part of `model.embed_tokens.weight`'s).
 * No LoRA. The GPU's full finetuning (src/model/graph/full-grads.ts) computes the same.
 */
export function fullLossAndGrads(
  model: RefModel, tokens: Int32Array, targets: Int32Array, B: number, T: number, opts: ForwardOptions = {},
): { loss: number; count: number; logits: FloatArray; grads: Map<string, FloatArray> } {
  const { loss, count, logits, cache } = forward(model, new Map(), tokens, targets, B, T, opts);
  const grads = new Map<string, FloatArray>();
  backward(cache, { baseGrads: grads });
  return { loss, count, logits, grads };
}
