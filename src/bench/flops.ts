/**
 * Model FLOPs of one training step (what MFU counts): the products the math of a LoRA step needs,
 * not what an implementation happens to run. Counted: base linears forward and input-gradient
 * (layer 0's q/k/v input gradient is not needed: the embedding is frozen), the LoRA products
 * forward and backward, and causal attention (QK^T and PV over the T(T+1)/2 visible pairs forward,
 * twice that backward). Not counted: recomputation (the LM head's logits in the backward,
 * activation checkpointing), and elementwise work (norms, RoPE, SwiGLU, softmax, cross-entropy,
 * the optimizer), as is usual for MFU.
 */
import type { ModelConfig } from '../config/model-config';
import { LAYER_LINEARS } from '../model/graph/base-weights';
import { loraConfigOf } from '../model/graph/train-graph';
import { moduleShape } from '../config/lora-targets';
import { loraLayout } from '../model/plan/lora-layout';
import type { RunConfig } from '../config/run-config';

export interface StepFlops {
  /** Frozen linears (and the LM head), forward + input gradient. */
  base: number;
  lora: number;
  attention: number;
  total: number;
}

export function stepModelFlops(model: ModelConfig, run: RunConfig): StepFlops {
  const N = run.microBatch * run.maxSeqLen;
  const T = run.maxSeqLen;
  const needsDx = (layer: number | null, module: string) => !(layer === 0 && ['q_proj', 'k_proj', 'v_proj'].includes(module));
  let base = 0;
  for (let l = 0; l < model.numLayers; l++) {
    for (const m of LAYER_LINEARS) {
      const s = moduleShape(m, model);
      base += 2 * N * s.in * s.out * (needsDx(l, m) ? 2 : 1);
    }
  }
  base += 2 * 2 * N * model.hiddenSize * model.vocabSize; // LM head forward + input gradient

  let lora = 0;
  for (const s of loraLayout(model, loraConfigOf(run)).slots) {
    const { r, inFeatures: i, outFeatures: o } = s;
    // forward h = x A^T, y += h B^T; backward dB, dh, dA, and dx unless the input gradient is unused
    lora += 2 * N * r * (i + o) + 2 * N * r * (o + o + i) + (needsDx(s.layer, s.module) ? 2 * N * r * i : 0);
  }

  const pairs = (T * (T + 1)) / 2; // causal (query, key) pairs per sequence and head
  const attnFwd = 2 * 2 * pairs * model.headDim * model.numHeads * run.microBatch; // QK^T and PV
  const attention = 3 * attnFwd;
  const perMicro = base + lora + attention;
  const k = run.gradAccumulation;
  return { base: k * base, lora: k * lora, attention: k * attention, total: k * perMicro };
}
