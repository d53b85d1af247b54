import { headNormNames } from '../config/architecture-features';
import { layerAttention, layerForward, layerNorms, type LayerCache } from './layer';
import { attentionBackward } from './ops/attention';
import { crossEntropyBackward } from './ops/cross-entropy';
import { embeddingBackward } from './ops/embedding';
import { gegluBackward } from './ops/geglu';
import { rmsnormBackward } from './ops/rmsnorm';
import { ropeBackward } from './ops/rope';
import { softcapBackward } from './ops/softcap';
import { swigluBackward } from './ops/swiglu';
import { forward, type ForwardCache, type ForwardOptions } from './model';
import { baseGradOf, baseWeight, projectBackward, type LoraGrad, type LoraWeights, type ProjCache, type ProjContext, type RefModel } from './projection';
import { zerosLike, type FloatArray } from './types';

/**
 * Backward of forward() for d(loss)/d(LoRA parameters); the base is frozen, so only the LoRA
 * gradients are returned (same keys as `cache.ctx.lora`, same shapes as A and B).
 * The residual stream's gradient still flows through every layer, and through the head into
 * model.norm, so tied embeddings need nothing special here (nor does Gemma's embedding scale:
 * nothing trainable lies below it).
 * With `baseGrads` (full finetuning, full-backward.ts), the gradient of every base tensor also
 * accumulates there by Hugging Face name: linears, biases, norms, the head, and the embedding
 * (scatter-add of d(scaled embedding) * embedScale; a tied head adds its dW to the same table).
 */
export function backward(cache: ForwardCache, opts: { baseGrads?: Map<string, FloatArray> } = {}): Map<string, LoraGrad> {
  const { B, T } = cache;
  const ctx: ProjContext = opts.baseGrads ? { ...cache.ctx, baseGrads: opts.baseGrads } : cache.ctx;
  const c = ctx.model.config;
  const N = B * T;
  const C = c.hiddenSize;
  const V = c.vocabSize;
  const grads = new Map<string, LoraGrad>();
  for (const [path, m] of ctx.lora) grads.set(path, { dA: zerosLike(m.A), dB: zerosLike(m.B), ...(m.m ? { dm: zerosLike(m.m) } : {}) });

  let dlogits = new ctx.Float(N * V); // (N, V) d(loss)/d(logits the loss read)
  crossEntropyBackward(dlogits, cache.logits, cache.lse, cache.targets, N, V);
  if (c.finalLogitSoftcap) {
    const draw = new ctx.Float(N * V); // (N, V) d(loss)/d(head output before the cap)
    softcapBackward(draw, dlogits, cache.logits, N * V, c.finalLogitSoftcap);
    dlogits = draw;
  }
  const dxn = new ctx.Float(N * C);
  projectBackward(ctx, dxn, grads, dlogits, cache.head, 'lm_head', 0, N);
  let dx = new ctx.Float(N * C);
  rmsnormBackward(dx, baseGradOf(ctx, 'model.norm.weight', C), dxn, cache.xFinal, baseWeight(ctx.model, 'model.norm.weight', C), cache.rstd, N, C, !!c.normPlusOne);
  for (let l = c.numLayers - 1; l >= 0; l--) dx = layerBackward(ctx, grads, dx, layerCacheFor(cache, l), l, cache);
  const dE = baseGradOf(ctx, 'model.embed_tokens.weight', V * C);
  if (dE) {
    const scale = c.embedScale ?? 1;
    if (scale !== 1) for (let i = 0; i < N * C; i++) dx[i] *= scale;
    embeddingBackward(dE, dx, cache.tokens, N, C);
  }
  return grads;
}

/**
 * What the backward of layer l reads. bf16 activations with checkpointing: the layer recomputed from
 * its stored (bf16) input, its activations stored again (the last layer's are the forward's, as on
 * the GPU, where they are still in the working set).
 */
function layerCacheFor(cache: ForwardCache, l: number): LayerCache {
  const { ctx, B, T } = cache;
  const lc = cache.layers[l];
  if (ctx.activationPrecision !== 'bf16' || !ctx.activationCheckpointing || l === ctx.model.config.numLayers - 1) return lc;
  return layerForward(ctx, lc.x.slice(), l, B, T, cache.rope[cache.ropeOfLayer[l]]);
}

/** Given d(layer output) (N, C), accumulates LoRA gradients and returns d(layer input) (N, C). */
function layerBackward(
  ctx: ProjContext, grads: Map<string, LoraGrad>, dout: FloatArray, lc: LayerCache, l: number, cache: ForwardCache,
): FloatArray {
  const c = ctx.model.config;
  const { B, T } = cache;
  const { cos, sin } = cache.rope[cache.ropeOfLayer[l]];
  const N = B * T;
  const C = c.hiddenSize;
  const F = c.intermediateSize;
  const { numHeads: H, numKvHeads: KV, headDim: D } = c;
  const plusOne = !!c.normPlusOne;
  const Float = ctx.Float;
  const names = layerNorms(c);
  // dinp (rows, cols) += backward of the norm `name` of this layer at dy, from its forward input and rstd.
  const normBack = (dinp: FloatArray, dy: FloatArray, inp: FloatArray, rstd: FloatArray, name: string, rows: number, cols: number) =>
    rmsnormBackward(dinp, baseGradOf(ctx, `model.layers.${l}.${name}`, cols), dy, inp, baseWeight(ctx.model, `model.layers.${l}.${name}`, cols), rstd, rows, cols, plusOne);
  const back = (dx: FloatArray, dy: FloatArray, m: keyof LayerCache['proj']) =>
    projectBackward(ctx, dx, grads, dy, lc.proj[m] as ProjCache, m, l, N);

  // MLP block: out = x1 + [postMlp](down(act(gate(xn2)) * up(xn2))), xn2 = norm(x1)
  const dx1 = dout.slice(); // residual branch
  let dd: FloatArray = dout; // (N, C) d(down_proj output)
  if (names.postMlp) {
    dd = new Float(N * C);
    normBack(dd, dout, lc.d!, lc.rstdD!, names.postMlp, N, C);
  }
  const da = new Float(N * F);
  back(da, dd, 'down_proj');
  const dg = new Float(N * F);
  const du = new Float(N * F);
  if (c.mlpActivation === 'gelu_tanh') gegluBackward(dg, du, da, lc.g, lc.u, N * F);
  else swigluBackward(dg, du, da, lc.g, lc.u, N * F);
  const dxn2 = new Float(N * C);
  back(dxn2, dg, 'gate_proj');
  back(dxn2, du, 'up_proj');
  normBack(dx1, dxn2, lc.x1, lc.rstd2, names.mlp, N, C);

  // Attention block: x1 = x + [postAttn](o(attn(rope(qn(q(xn1))), rope(kn(k(xn1))), v(xn1)))), xn1 = norm(x)
  const dx = dx1.slice();
  let do_: FloatArray = dx1; // (N, C) d(o_proj output)
  if (names.postAttn) {
    do_ = new Float(N * C);
    normBack(do_, dx1, lc.o!, lc.rstdO!, names.postAttn, N, C);
  }
  const dy = new Float(N * H * D);
  back(dy, do_, 'o_proj');
  const dqr = new Float(N * H * D);
  const dkr = new Float(N * KV * D);
  const dv = new Float(N * KV * D);
  // bf16 activations: as the GPU, from the stored (rounded) q, k and output and the f32 lse.
  const stored = lc.lse ? { out: lc.y, lse: lc.lse } : undefined;
  attentionBackward(dqr, dkr, dv, dy, lc.q, lc.k, lc.v, lc.att, B, T, H, KV, D, layerAttention(c, l), stored);
  let dq: FloatArray = new Float(N * H * D); // (N, H*D) d(q before RoPE)
  let dk: FloatArray = new Float(N * KV * D);
  ropeBackward(dq, dqr, cos, sin, B, T, H, D);
  ropeBackward(dk, dkr, cos, sin, B, T, KV, D);
  if (c.qkNorm) {
    const [qName, kName] = headNormNames(c);
    const dqp = new Float(N * H * D); // (N, H*D) d(q_proj output)
    const dkp = new Float(N * KV * D);
    normBack(dqp, dq, lc.qp!, lc.qRstd!, qName, N * H, D);
    normBack(dkp, dk, lc.kp!, lc.kRstd!, kName, N * KV, D);
    dq = dqp;
    dk = dkp;
  }
  const dxn1 = new Float(N * C);
  back(dxn1, dq, 'q_proj');
  back(dxn1, dk, 'k_proj');
  back(dxn1, dv, 'v_proj');
  normBack(dx, dxn1, lc.x, lc.rstd1, names.input, N, C);
  return dx;
}

/** forward + backward in one call: the loss, the logits (B, T, V) and the LoRA gradients. */
export function lossAndGrads(
  model: RefModel, lora: LoraWeights, tokens: Int32Array, targets: Int32Array, B: number, T: number, opts: ForwardOptions = {},
): { loss: number; count: number; logits: FloatArray; grads: Map<string, LoraGrad> } {
  const { loss, count, logits, cache } = forward(model, lora, tokens, targets, B, T, opts);
  return { loss, count, logits, grads: backward(cache) };
}
