import type { DropoutMask } from '../core/rng';
import type { ModelConfig } from '../config/model-config';
import type { ActivationPrecision } from '../config/run-config';
import { modulePath, moduleShape, type ModuleName } from '../config/lora-targets';
import type { DropoutOptions } from './dropout';
import { columnSum } from './ops/column-sum';
import { linearBackward, linearForward } from './ops/linear';
import { doraBackward, doraForward, doraWeightNorm } from './ops/dora';
import { loraBackward, loraForward } from './ops/lora';
import type { FloatArray, FloatCtor } from './types';

/** A frozen base model: its config and its weights under Hugging Face state-dict names. */
export interface RefModel {
  config: ModelConfig;
  weights: Map<string, FloatArray>;
}

/** One LoRA adapter module: A = lora_A.weight (r, in), B = lora_B.weight (out, r), scale = alpha / r (or rsLoRA's). */
export interface LoraModule {
  A: FloatArray;
  B: FloatArray;
  r: number;
  scale: number;
  /** DoRA only: lora_magnitude_vector (out); the module is DoRA when present (ops/dora.ts). */
  m?: FloatArray;
}

/** LoRA modules keyed by module path (`modulePath()`: `model.layers.0.self_attn.q_proj`, `lm_head`). */
export type LoraWeights = Map<string, LoraModule>;

/** Gradients of one LoRA module, same shapes as A and B. */
export interface LoraGrad {
  dA: FloatArray;
  dB: FloatArray;
  /** DoRA modules: the magnitude's gradient (out). */
  dm?: FloatArray;
}

/** What a forward pass shares with every projection. */
export interface ProjContext {
  model: RefModel;
  lora: LoraWeights;
  dropout: DropoutOptions | null;
  Float: FloatCtor;
  /** 'bf16': the layer activations kept for the backward are stored as bf16 (layer.ts roundStored); default f32. */
  activationPrecision?: ActivationPrecision;
  /** bf16 activations only: the backward recomputes the layers from their stored inputs (model.ts ForwardOptions). */
  activationCheckpointing?: boolean;
  /**
   * Full finetuning (full-backward.ts): the backward also accumulates the gradient of every base
   * tensor it reads here, by Hugging Face name (a tied head's into the embedding's); absent: frozen.
   */
  baseGrads?: Map<string, FloatArray>;
}

/** What the backward of one projection needs: its input, the LoRA hidden h (N, r) and the mask. */
export interface ProjCache {
  x: FloatArray;
  h: FloatArray | null;
  mask: DropoutMask | null;
  /** DoRA: the per-row norm of W + scale B A (out), a constant of the backward. */
  norm?: FloatArray;
}

/** A base tensor by name, checked for presence and size. */
export function baseWeight(model: RefModel, name: string, n: number): FloatArray {
  const w = model.weights.get(name);
  if (!w) throw new Error(`model: missing weight "${name}"`);
  if (w.length !== n) throw new RangeError(`model: weight "${name}" has ${w.length} elements, expected ${n}`);
  return w;
}

/** The gradient of base tensor `name` (n elements) when the context trains the base, created zeroed on first use; else null. */
export function baseGradOf(ctx: ProjContext, name: string, n: number): FloatArray | null {
  if (!ctx.baseGrads) return null;
  let g = ctx.baseGrads.get(name);
  if (!g) ctx.baseGrads.set(name, (g = new ctx.Float(n)));
  return g;
}

/** Weight and optional bias of a linear module; the head falls back to the embedding when tied. */
function linearWeights(model: RefModel, module: ModuleName, path: string): { W: FloatArray; b: FloatArray | null; In: number; Out: number; wName: string } {
  const c = model.config;
  const { in: In, out: Out } = moduleShape(module, c);
  const wName = module === 'lm_head' && c.tieWordEmbeddings ? 'model.embed_tokens.weight' : `${path}.weight`;
  const W = baseWeight(model, wName, Out * In);
  const needsBias = c.attentionBias && (module === 'q_proj' || module === 'k_proj' || module === 'v_proj');
  // A bias present in the weights is used (Llama's attention_bias also biases o_proj); a q/k/v
  // bias the config promises must be there.
  const b = needsBias ? baseWeight(model, `${path}.bias`, Out) : (model.weights.get(`${path}.bias`) ?? null);
  if (b && b.length !== Out) throw new RangeError(`model: bias "${path}.bias" has ${b.length} elements, expected ${Out}`);
  return { W, b, In, Out, wName };
}

function loraModule(ctx: ProjContext, path: string, In: number, Out: number): LoraModule | null {
  const m = ctx.lora.get(path);
  if (!m) return null;
  if (m.A.length !== m.r * In || m.B.length !== Out * m.r) {
    throw new RangeError(`lora "${path}": A ${m.A.length} / B ${m.B.length} elements do not fit r=${m.r}, in=${In}, out=${Out}`);
  }
  if (m.m && m.m.length !== Out) throw new RangeError(`lora "${path}": the DoRA magnitude has ${m.m.length} elements, expected out=${Out}`);
  return m;
}

/**
 * out (N, Out) = x W^T + b (+ LoRA branch when the module has an adapter).
 * x (N, In). Returns what projectBackward needs.
 */
export function projectForward(ctx: ProjContext, out: FloatArray, x: FloatArray, module: ModuleName, layer: number, N: number): ProjCache {
  const path = modulePath(module, layer);
  const { W, b, In, Out } = linearWeights(ctx.model, module, path);
  linearForward(out, x, W, b, N, In, Out);
  const m = loraModule(ctx, path, In, Out);
  if (!m) return { x, h: null, mask: null };
  let mask: DropoutMask | null = null;
  if (ctx.dropout && ctx.dropout.p > 0) {
    const keep = ctx.dropout.mask(path, N * In);
    if (keep.length !== N * In) throw new RangeError(`dropout mask for "${path}": ${keep.length} flags, expected ${N * In}`);
    mask = { keep, p: ctx.dropout.p };
  }
  const h = new ctx.Float(N * m.r);
  if (m.m) {
    const norm = new ctx.Float(Out);
    doraWeightNorm(norm, W, m.A, m.B, m.scale, In, m.r, Out);
    doraForward(out, h, x, W, m.A, m.B, m.m, norm, m.scale, mask, N, In, m.r, Out);
    return { x, h, mask, norm };
  }
  loraForward(out, h, x, m.A, m.B, m.scale, mask, N, In, m.r, Out);
  return { x, h, mask };
}

/**
 * Backward of projectForward: dx (N, In) += dout W (+ the LoRA path), and the module's LoRA
 * gradients accumulate into grads. dout (N, Out). The base weight and bias get a gradient only
 * when the context trains the base (ctx.baseGrads: dW += dout^T x, db += sum over rows of dout).
 */
export function projectBackward(
  ctx: ProjContext, dx: FloatArray, grads: Map<string, LoraGrad>, dout: FloatArray, pc: ProjCache,
  module: ModuleName, layer: number, N: number,
): void {
  const path = modulePath(module, layer);
  const { W, b, In, Out, wName } = linearWeights(ctx.model, module, path);
  linearBackward(dx, baseGradOf(ctx, wName, Out * In), null, dout, pc.x, W, N, In, Out);
  const db = b && baseGradOf(ctx, `${path}.bias`, Out);
  if (db) columnSum(db, dout, N, Out);
  const m = loraModule(ctx, path, In, Out);
  const g = grads.get(path);
  if (!m || !g || !pc.h) return;
  if (m.m && pc.norm) {
    doraBackward(dx, g.dA, g.dB, g.dm ?? null, dout, pc.x, pc.h, W, m.A, m.B, m.m, pc.norm, m.scale, pc.mask, N, In, m.r, Out);
    return;
  }
  loraBackward(dx, g.dA, g.dB, dout, pc.x, pc.h, m.A, m.B, m.scale, pc.mask, N, In, m.r, Out);
}
