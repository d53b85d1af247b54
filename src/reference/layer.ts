import { attentionScale, headNormNames, layerNormNames, layerWindow, type ArchitectureFeatures } from '../config/architecture-features';
import type { ModelConfig } from '../config/model-config';
import type { ModuleName } from '../config/lora-targets';
import { attentionForward, type AttentionOptions } from './ops/attention';
import { gegluForward } from './ops/geglu';
import { residualForward } from './ops/residual';
import { rmsnormForward } from './ops/rmsnorm';
import { ropeForward } from './ops/rope';
import { swigluForward } from './ops/swiglu';
import { roundToBf16 } from './ops/bf16-store';
import { baseWeight, projectForward, type ProjCache, type ProjContext } from './projection';
import type { FloatArray } from './types';

/** RoPE tables of one spec for positions 0..T-1. */
export interface RopeTable {
  cos: FloatArray; // (T, D/2)
  sin: FloatArray; // (T, D/2)
}

/**
 * Activations of one decoder layer kept for the backward. N = B*T rows. Fields marked with a
 * feature exist only when the config has it (absent otherwise, so a Llama layer keeps what it did).
 */
export interface LayerCache {
  x: FloatArray; //     (N, C)  layer input (residual stream)
  xn1: FloatArray; //   (N, C)  input_layernorm(x)
  rstd1: FloatArray; // (N)
  qp?: FloatArray; //   (N, H*D)   qkNorm: q_proj output, input of q_norm
  qRstd?: FloatArray; // (N*H)     qkNorm: one per query head row
  kp?: FloatArray; //   (N, KV*D)  qkNorm: k_proj output, input of k_norm
  kRstd?: FloatArray; // (N*KV)
  q: FloatArray; //     (N, H*D)   after q_norm and RoPE
  k: FloatArray; //     (N, KV*D)  after k_norm and RoPE
  v: FloatArray; //     (N, KV*D)
  att: FloatArray; //   (B, H, T, T) softmax probabilities (0 outside the causal window)
  lse?: FloatArray; //  (B, H, T)  bf16 activations: per-row logsumexp of the scores, to recompute att from the stored q, k
  y: FloatArray; //     (N, H*D)   attention output, input of o_proj
  o?: FloatArray; //    (N, C)  sandwichNorms: o_proj(y), input of post_attention_layernorm
  rstdO?: FloatArray; // (N)
  x1: FloatArray; //    (N, C)  x + o_proj(y)   (sandwich: x + post_attention_layernorm(o))
  xn2: FloatArray; //   (N, C)  MLP input norm of x1 (post_attention_layernorm; sandwich: pre_feedforward_layernorm)
  rstd2: FloatArray; // (N)
  g: FloatArray; //     (N, F)  gate_proj(xn2)
  u: FloatArray; //     (N, F)  up_proj(xn2)
  a: FloatArray; //     (N, F)  act(g) * u (silu or gelu_tanh), input of down_proj
  d?: FloatArray; //    (N, C)  sandwichNorms: down_proj(a), input of post_feedforward_layernorm
  rstdD?: FloatArray; // (N)
  out: FloatArray; //   (N, C)  x1 + down_proj(a)   (sandwich: x1 + post_feedforward_layernorm(d))
  proj: Partial<Record<ModuleName, ProjCache>>;
}

/** The norm weights of a layer by role (names under `model.layers.<l>.`); the sandwich ones are null without sandwichNorms. */
export function layerNorms(c: ArchitectureFeatures): { input: string; postAttn: string | null; mlp: string; postMlp: string | null } {
  const n = layerNormNames(c);
  return c.sandwichNorms
    ? { input: n[0], postAttn: n[1], mlp: n[2], postMlp: n[3] }
    : { input: n[0], postAttn: null, mlp: n[1], postMlp: null };
}

/** The attention options of layer l: scale, window and softcap from the config. */
export function layerAttention(c: ModelConfig, l: number): AttentionOptions {
  return { scale: attentionScale(c), window: layerWindow(c, l), softcap: c.attnLogitSoftcap ?? null };
}

/**
 * One decoder layer. Llama: pre-norm attention block then pre-norm gated MLP block, each residual.
 * Gemma (sandwichNorms) also norms each block's output before its residual add; Qwen3 and Gemma 3
 * (qkNorm) norm every q and k head before RoPE. See src/config/architecture-features.ts.
 * With bf16 activations (`ctx.activationPrecision`) the forward is the same f32 computation; once
 * the layer is done, what the backward reads is stored as bf16 (roundStored): see roundStored.
 */
export function layerForward(ctx: ProjContext, x: FloatArray, l: number, B: number, T: number, rope: RopeTable): LayerCache {
  const c = ctx.model.config;
  const { Float, model } = ctx;
  const N = B * T;
  const C = c.hiddenSize;
  const F = c.intermediateSize;
  const { numHeads: H, numKvHeads: KV, headDim: D } = c;
  const plusOne = !!c.normPlusOne;
  const w = (name: string, n: number) => baseWeight(model, `model.layers.${l}.${name}`, n);
  const norm = (out: FloatArray, rstd: FloatArray, inp: FloatArray, name: string, rows: number, cols: number) =>
    rmsnormForward(out, rstd, inp, w(name, cols), rows, cols, c.rmsNormEps, plusOne);
  const proj: Partial<Record<ModuleName, ProjCache>> = {};
  const project = (out: FloatArray, inp: FloatArray, m: ModuleName) => (proj[m] = projectForward(ctx, out, inp, m, l, N));
  const names = layerNorms(c);
  const lc: Partial<LayerCache> = { x, proj };

  const xn1 = new Float(N * C);
  const rstd1 = new Float(N);
  norm(xn1, rstd1, x, names.input, N, C);
  let q = new Float(N * H * D);
  let k = new Float(N * KV * D);
  const v = new Float(N * KV * D);
  project(q, xn1, 'q_proj');
  project(k, xn1, 'k_proj');
  project(v, xn1, 'v_proj');
  if (c.qkNorm) {
    // RMSNorm over head_dim of each head: rows of D; the projections are kept as the norms' inputs.
    const [qName, kName] = headNormNames(c);
    lc.qp = q;
    lc.kp = k;
    lc.qRstd = new Float(N * H);
    lc.kRstd = new Float(N * KV);
    q = new Float(N * H * D);
    k = new Float(N * KV * D);
    norm(q, lc.qRstd, lc.qp, qName, N * H, D);
    norm(k, lc.kRstd, lc.kp, kName, N * KV, D);
  }
  ropeForward(q, q, rope.cos, rope.sin, B, T, H, D); // in place: the pre-RoPE values are not needed later
  ropeForward(k, k, rope.cos, rope.sin, B, T, KV, D);
  const att = new Float(B * H * T * T);
  const y = new Float(N * H * D);
  const bf16 = ctx.activationPrecision === 'bf16';
  if (bf16) lc.lse = new Float(B * H * T);
  attentionForward(y, att, q, k, v, B, T, H, KV, D, layerAttention(c, l), lc.lse);
  let o = new Float(N * C);
  project(o, y, 'o_proj');
  if (names.postAttn) {
    lc.o = o;
    lc.rstdO = new Float(N);
    o = new Float(N * C);
    norm(o, lc.rstdO, lc.o, names.postAttn, N, C);
  }
  const x1 = new Float(N * C);
  residualForward(x1, x, o, N * C);

  const xn2 = new Float(N * C);
  const rstd2 = new Float(N);
  norm(xn2, rstd2, x1, names.mlp, N, C);
  const g = new Float(N * F);
  const u = new Float(N * F);
  project(g, xn2, 'gate_proj');
  project(u, xn2, 'up_proj');
  const a = new Float(N * F);
  if (c.mlpActivation === 'gelu_tanh') gegluForward(a, g, u, N * F);
  else swigluForward(a, g, u, N * F);
  let d = new Float(N * C);
  project(d, a, 'down_proj');
  if (names.postMlp) {
    lc.d = d;
    lc.rstdD = new Float(N);
    d = new Float(N * C);
    norm(d, lc.rstdD, lc.d, names.postMlp, N, C);
  }
  const out = new Float(N * C);
  residualForward(out, x1, d, N * C);
  const cache: LayerCache = { ...lc, x, xn1, rstd1, q, k, v, att, y, x1, xn2, rstd2, g, u, a, out, proj };
  if (bf16) roundStored(cache);
  return cache;
}

/**
 * bf16 activations: the activations a layer keeps for its backward become bf16 (round to nearest
 * even, in place), after the layer's forward has used them in f32: the input x, xn1, qp, kp, q and
 * k (after RoPE), v, y, o, x1, xn2, g, u, a, d; the LoRA inputs are among them, so the projections'
 * caches see the rounded values too. Per-row statistics (rstd, the attention lse) and the LoRA
 * hiddens stay f32; the attention probabilities are recomputed in the backward from the rounded q
 * and k and the f32 lse, as the GPU kernel does. The layer output is not rounded here (it is the
 * next layer's x, or the final norm's input, which stays f32). The GPU stores exactly these
 * (src/model/graph/bf16-activations.ts).
 */
export function roundStored(lc: LayerCache): void {
  for (const a of [lc.x, lc.xn1, lc.qp, lc.kp, lc.q, lc.k, lc.v, lc.y, lc.o, lc.x1, lc.xn2, lc.g, lc.u, lc.a, lc.d]) if (a) roundToBf16(a);
}
