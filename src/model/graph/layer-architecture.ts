/**
 * How one decoder layer computes, from the model's architecture features
 * (src/config/architecture-features.ts): shared by the training graph and the decoder.
 */
import { attentionScale, layerWindow } from '../../config/architecture-features';
import type { ModelConfig } from '../../config/model-config';
import type { GatedActivation } from '../../engine/kernels/swiglu';

export interface LayerArchitecture {
  eps: number;
  /** Norms scale by 1 + w (Gemma). */
  plusOne: boolean;
  activation: GatedActivation;
  /** Attention: softmax scale, sliding window (null: full causal), score softcap (null: none). */
  attnScale: number;
  window: number | null;
  softcap: number | null;
}

export function layerArchitecture(model: ModelConfig, l: number): LayerArchitecture {
  return {
    eps: model.rmsNormEps, plusOne: model.normPlusOne === true, activation: model.mlpActivation ?? 'silu',
    attnScale: attentionScale(model), window: layerWindow(model, l), softcap: model.attnLogitSoftcap ?? null,
  };
}
