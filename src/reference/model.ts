import { ropeSpecOf } from '../config/model-config';
import type { ModuleName } from '../config/lora-targets';
import { modulePath } from '../config/lora-targets';
import type { DropoutOptions } from './dropout';
import { attentionForward } from './ops/attention';
import { crossEntropyForward } from './ops/cross-entropy';
import { embeddingForward } from './ops/embedding';
import { residualForward } from './ops/residual';
import { rmsnormForward } from './ops/rmsnorm';
import { ropeForward, ropeTables } from './ops/rope';
import { swigluForward } from './ops/swiglu';
import { baseWeight, projectForward, type LoraWeights, type ProjCache, type ProjContext, type RefModel } from './projection';
import { floatCtorOf, type FloatArray } from './types';

export type { LoraGrad, LoraModule, LoraWeights, RefModel } from './projection';

export interface ForwardOptions {
  /** LoRA dropout (training mode); absent or p = 0 means none. */
  dropout?: DropoutOptions;
}

/** Activations of one decoder layer kept for the backward. N = B*T rows. */
export interface LayerCache {
  x: FloatArray; //     (N, C)  layer input (residual stream)
  xn1: FloatArray; //   (N, C)  input_layernorm(x)
  rstd1: FloatArray; // (N)
  q: FloatArray; //     (N, H*D)   after RoPE
  k: FloatArray; //     (N, KV*D)  after RoPE
  v: FloatArray; //     (N, KV*D)
  att: FloatArray; //   (B, H, T, T) softmax probabilities
  y: FloatArray; //     (N, H*D)   attention output, input of o_proj
  x1: FloatArray; //    (N, C)  x + o_proj(y)
  xn2: FloatArray; //   (N, C)  post_attention_layernorm(x1)
  rstd2: FloatArray; // (N)
  g: FloatArray; //     (N, F)  gate_proj(xn2)
  u: FloatArray; //     (N, F)  up_proj(xn2)
  a: FloatArray; //     (N, F)  silu(g) * u, input of down_proj
  out: FloatArray; //   (N, C)  x1 + down_proj(a)
  proj: Partial<Record<ModuleName, ProjCache>>;
}

/** Everything backward() needs from a forward pass. */
export interface ForwardCache {
  B: number;
  T: number;
  ctx: ProjContext;
  targets: Int32Array; // (B, T)
  cos: FloatArray; //     (T, D/2)
  sin: FloatArray; //     (T, D/2)
  layers: LayerCache[];
  xFinal: FloatArray; //  (N, C) output of the last layer
  xn: FloatArray; //      (N, C) model.norm(xFinal), input of the head
  rstd: FloatArray; //    (N)
  head: ProjCache;
  logits: FloatArray; //  (N, V)
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
 * embed -> layers [x + o(attn(rope(q), rope(k), v)) ; x + down(silu(gate) * up)] -> norm -> lm_head -> CE.
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
  const ctx: ProjContext = { model, lora, dropout: opts.dropout ?? null, Float };
  const { cos, sin } = ropeTables(Float, T, c.headDim, ropeSpecOf(c));

  let x = new Float(N * C);
  embeddingForward(x, embed, tokens, N, C, V);
  const layers: LayerCache[] = [];
  for (let l = 0; l < c.numLayers; l++) {
    const lc = layerForward(ctx, x, l, B, T, cos, sin);
    layers.push(lc);
    x = lc.out;
  }
  const xn = new Float(N * C);
  const rstd = new Float(N);
  rmsnormForward(xn, rstd, x, baseWeight(model, 'model.norm.weight', C), N, C, c.rmsNormEps);
  const logits = new Float(N * V);
  const head = projectForward(ctx, logits, xn, 'lm_head', 0, N);
  const lse = new Float(N);
  const { loss, count } = crossEntropyForward(lse, logits, targets, N, V);
  const cache: ForwardCache = { B, T, ctx, targets, cos, sin, layers, xFinal: x, xn, rstd, head, logits, lse };
  return { logits, loss, count, cache };
}

/** One decoder layer: pre-norm attention block then pre-norm SwiGLU MLP block, each residual. */
function layerForward(ctx: ProjContext, x: FloatArray, l: number, B: number, T: number, cos: FloatArray, sin: FloatArray): LayerCache {
  const c = ctx.model.config;
  const { Float, model } = ctx;
  const N = B * T;
  const C = c.hiddenSize;
  const F = c.intermediateSize;
  const { numHeads: H, numKvHeads: KV, headDim: D } = c;
  const w = (name: string, n: number) => baseWeight(model, `model.layers.${l}.${name}`, n);
  const proj: Partial<Record<ModuleName, ProjCache>> = {};
  const project = (out: FloatArray, inp: FloatArray, m: ModuleName) => (proj[m] = projectForward(ctx, out, inp, m, l, N));

  const xn1 = new Float(N * C);
  const rstd1 = new Float(N);
  rmsnormForward(xn1, rstd1, x, w('input_layernorm.weight', C), N, C, c.rmsNormEps);
  const q = new Float(N * H * D);
  const k = new Float(N * KV * D);
  const v = new Float(N * KV * D);
  project(q, xn1, 'q_proj');
  project(k, xn1, 'k_proj');
  project(v, xn1, 'v_proj');
  ropeForward(q, q, cos, sin, B, T, H, D); // in place: the pre-RoPE values are not needed later
  ropeForward(k, k, cos, sin, B, T, KV, D);
  const att = new Float(B * H * T * T);
  const y = new Float(N * H * D);
  attentionForward(y, att, q, k, v, B, T, H, KV, D);
  const o = new Float(N * C);
  project(o, y, 'o_proj');
  const x1 = new Float(N * C);
  residualForward(x1, x, o, N * C);

  const xn2 = new Float(N * C);
  const rstd2 = new Float(N);
  rmsnormForward(xn2, rstd2, x1, w('post_attention_layernorm.weight', C), N, C, c.rmsNormEps);
  const g = new Float(N * F);
  const u = new Float(N * F);
  project(g, xn2, 'gate_proj');
  project(u, xn2, 'up_proj');
  const a = new Float(N * F);
  swigluForward(a, g, u, N * F);
  const d = new Float(N * C);
  project(d, a, 'down_proj');
  const out = new Float(N * C);
  residualForward(out, x1, d, N * C);
  return { x, xn1, rstd1, q, k, v, att, y, x1, xn2, rstd2, g, u, a, out, proj };
}

/** A LoRA key that names no module of this model is a caller bug (e.g. a PEFT prefix left on). */
function checkLoraPaths(model: RefModel, lora: LoraWeights): void {
  const known = new Set<string>(['lm_head']);
  const names: ModuleName[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
  for (let l = 0; l < model.config.numLayers; l++) for (const m of names) known.add(modulePath(m, l));
  for (const path of lora.keys()) if (!known.has(path)) throw new Error(`lora: "${path}" is not a module of this model`);
}
