import { ropeSpecsByLayer } from '../config/architecture-features';
import type { ModuleName } from '../config/lora-targets';
import type { ActivationPrecision } from '../config/run-config';
import { modulePath } from '../config/lora-targets';
import type { DropoutOptions } from './dropout';
import { layerForward, type LayerCache, type RopeTable } from './layer';
import { crossEntropyForward } from './ops/cross-entropy';
import { embeddingForward } from './ops/embedding';
import { rmsnormForward } from './ops/rmsnorm';
import { ropeTables } from './ops/rope';
import { softcapForward } from './ops/softcap';
import { baseWeight, projectForward, type LoraWeights, type ProjCache, type ProjContext, type RefModel } from './projection';
import { floatCtorOf, type FloatArray } from './types';

export type { LoraGrad, LoraModule, LoraWeights, RefModel } from './projection';
export type { LayerCache, RopeTable } from './layer';

export interface ForwardOptions {
  /** LoRA dropout (training mode); absent or p = 0 means none. */
  dropout?: DropoutOptions;
  /** How the layers' saved activations are stored: 'bf16' rounds them as the GPU stores them (default 'f32'). */
  activationPrecision?: ActivationPrecision;
  /**
   * With bf16 activations, the backward recomputes every layer but the last from its stored (bf16)
   * input, as the GPU does with activation checkpointing; in f32 recomputing changes nothing.
   */
  activationCheckpointing?: boolean;
}

/** Everything backward() needs from a forward pass. */
export interface ForwardCache {
  B: number;
  T: number;
  ctx: ProjContext;
  tokens: Int32Array; //  (B, T) (full finetuning's embedding gradient scatters by them)
  targets: Int32Array; // (B, T)
  /** One table per distinct RoPE spec of the model (ropeSpecsByLayer); layer l uses rope[ropeOfLayer[l]]. */
  rope: RopeTable[];
  ropeOfLayer: number[]; // (numLayers)
  layers: LayerCache[];
  xFinal: FloatArray; //  (N, C) output of the last layer
  xn: FloatArray; //      (N, C) model.norm(xFinal), input of the head
  rstd: FloatArray; //    (N)
  head: ProjCache;
  logits: FloatArray; //  (N, V) after the final softcap when the model has one (what the loss reads)
  lse: FloatArray; //     (N) per-row logsumexp
}

export interface ForwardResult {
  logits: FloatArray; // (B, T, V)
  /** Mean cross-entropy over positions whose target != -100 (0 when there are none). */
  loss: number;
  /** Number of positions that count in the loss. */
  count: number;
  cache: ForwardCache;
}

/**
 * Forward pass of a Llama-family decoder with LoRA, Hugging Face semantics:
 * embed (* embedScale) -> layers (see layerForward) -> norm -> lm_head (-> final softcap) -> CE.
 * The architecture features of the config (q/k norms, Gemma's sandwich norms and GeGLU, per-layer
 * windows and RoPE, softcaps) are read through src/config/architecture-features.ts.
 * tokens, targets (B, T); targets[b, t] is the label of position t, -100 = ignored.
 * The float type of the whole pass is that of `model.embed_tokens.weight`.
 */
export function forward(
  model: RefModel, lora: LoraWeights, tokens: Int32Array, targets: Int32Array, B: number, T: number, opts: ForwardOptions = {},
): ForwardResult {
  const c = model.config;
  const N = B * T;
  const C = c.hiddenSize;
  const V = c.vocabSize;
  if (tokens.length !== N || targets.length !== N) throw new RangeError(`forward: tokens/targets must have B*T = ${N} elements`);
  checkLoraPaths(model, lora);
  const embed = baseWeight(model, 'model.embed_tokens.weight', V * C);
  const Float = floatCtorOf(embed);
  const ctx: ProjContext = {
    model, lora, dropout: opts.dropout ?? null, Float,
    activationPrecision: opts.activationPrecision ?? 'f32', activationCheckpointing: opts.activationCheckpointing ?? false,
  };
  const { specs, ofLayer } = ropeSpecsByLayer(c);
  const rope = specs.map((s) => ropeTables(Float, T, c.headDim, s));

  let x = new Float(N * C); // (N, C)
  embeddingForward(x, embed, tokens, N, C, V);
  // Gemma scales the gathered rows (one rounding in the float type, as torch's `embed * scale`);
  // a tied head still reads the unscaled table.
  const embedScale = c.embedScale ?? 1;
  if (embedScale !== 1) for (let i = 0; i < N * C; i++) x[i] *= embedScale;
  const layers: LayerCache[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const lc = layerForward(ctx, x, l, B, T, rope[ofLayer[l]]);
    layers.push(lc);
    x = lc.out;
  }
  const xn = new Float(N * C);
  const rstd = new Float(N);
  rmsnormForward(xn, rstd, x, baseWeight(model, 'model.norm.weight', C), N, C, c.rmsNormEps, !!c.normPlusOne);
  let logits = new Float(N * V); // (N, V)
  const head = projectForward(ctx, logits, xn, 'lm_head', 0, N);
  if (c.finalLogitSoftcap) {
    const capped = new Float(N * V);
    softcapForward(capped, logits, N * V, c.finalLogitSoftcap);
    logits = capped;
  }
  const lse = new Float(N);
  const { loss, count } = crossEntropyForward(lse, logits, targets, N, V);
  const cache: ForwardCache = { B, T, ctx, tokens, targets, rope, ropeOfLayer: ofLayer, layers, xFinal: x, xn, rstd, head, logits, lse };
  return { logits, loss, count, cache };
}

/** A LoRA key that names no module of this model is a caller bug (e.g. a PEFT prefix left on). */
function checkLoraPaths(model: RefModel, lora: LoraWeights): void {
  const known = new Set<string>(['lm_head']);
  const names: ModuleName[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  for (let l = 0; l < model.config.numLayers; l++) for (const m of names) known.add(modulePath(m, l));
  for (const path of lora.keys()) if (!known.has(path)) throw new Error(`lora: "${path}" is not a module of this model`);
}
