import { attentionBackward } from './ops/attention';
import { crossEntropyBackward } from './ops/cross-entropy';
import { rmsnormBackward } from './ops/rmsnorm';
import { ropeBackward } from './ops/rope';
import { swigluBackward } from './ops/swiglu';
import { forward, type ForwardCache, type ForwardOptions, type LayerCache } from './model';
import { baseWeight, projectBackward, type LoraGrad, type LoraWeights, type ProjCache, type ProjContext, type RefModel } from './projection';
import { zerosLike, type FloatArray } from './types';

/**
 * Backward of forward() for d(loss)/d(LoRA parameters); the base is frozen, so only the LoRA
 * gradients are returned (same keys as `cache.ctx.lora`, same shapes as A and B).
 * The residual stream's gradient still flows through every layer, and through the head into
 * model.norm, so tied embeddings need nothing special here.
 */
export function backward(cache: ForwardCache): Map<string, LoraGrad> {
  const { ctx, B, T } = cache;
  const c = ctx.model.config;
  const N = B * T;
  const C = c.hiddenSize;
  const V = c.vocabSize;
  const grads = new Map<string, LoraGrad>();
  for (const [path, m] of ctx.lora) grads.set(path, { dA: zerosLike(m.A), dB: zerosLike(m.B) });

  const dlogits = new ctx.Float(N * V);
  crossEntropyBackward(dlogits, cache.logits, cache.lse, cache.targets, N, V);
  const dxn = new ctx.Float(N * C);
  projectBackward(ctx, dxn, grads, dlogits, cache.head, 'lm_head', 0, N);
  let dx = new ctx.Float(N * C);
  rmsnormBackward(dx, null, dxn, cache.xFinal, baseWeight(ctx.model, 'model.norm.weight', C), cache.rstd, N, C);
  for (let l = c.numLayers - 1; l >= 0; l--) dx = layerBackward(ctx, grads, dx, cache.layers[l], l, cache);
  return grads;
}

/** Given d(layer output) (N, C), accumulates LoRA gradients and returns d(layer input) (N, C). */
function layerBackward(
  ctx: ProjContext, grads: Map<string, LoraGrad>, dout: FloatArray, lc: LayerCache, l: number, cache: ForwardCache,
): FloatArray {
  const c = ctx.model.config;
  const { B, T, cos, sin } = cache;
  const N = B * T;
  const C = c.hiddenSize;
  const F = c.intermediateSize;
  const { numHeads: H, numKvHeads: KV, headDim: D } = c;
  const Float = ctx.Float;
  const w = (name: string) => baseWeight(ctx.model, `model.layers.${l}.${name}`, C);
  const back = (dx: FloatArray, dy: FloatArray, m: keyof LayerCache['proj']) =>
    projectBackward(ctx, dx, grads, dy, lc.proj[m] as ProjCache, m, l, N);

  // MLP block: out = x1 + down(silu(gate(xn2)) * up(xn2)), xn2 = norm(x1)
  const dx1 = dout.slice(); // residual branch
  const da = new Float(N * F);
  back(da, dout, 'down_proj');
  const dg = new Float(N * F);
  const du = new Float(N * F);
  swigluBackward(dg, du, da, lc.g, lc.u, N * F);
  const dxn2 = new Float(N * C);
  back(dxn2, dg, 'gate_proj');
  back(dxn2, du, 'up_proj');
  rmsnormBackward(dx1, null, dxn2, lc.x1, w('post_attention_layernorm.weight'), lc.rstd2, N, C);

  // Attention block: x1 = x + o(attn(rope(q(xn1)), rope(k(xn1)), v(xn1))), xn1 = norm(x)
  const dx = dx1.slice();
  const dy = new Float(N * H * D);
  back(dy, dx1, 'o_proj');
  const dqr = new Float(N * H * D);
  const dkr = new Float(N * KV * D);
  const dv = new Float(N * KV * D);
  attentionBackward(dqr, dkr, dv, dy, lc.q, lc.k, lc.v, lc.att, B, T, H, KV, D);
  const dq = new Float(N * H * D);
  const dk = new Float(N * KV * D);
  ropeBackward(dq, dqr, cos, sin, B, T, H, D);
  ropeBackward(dk, dkr, cos, sin, B, T, KV, D);
  const dxn1 = new Float(N * C);
  back(dxn1, dq, 'q_proj');
  back(dxn1, dk, 'k_proj');
  back(dxn1, dv, 'v_proj');
  rmsnormBackward(dx, null, dxn1, lc.x, w('input_layernorm.weight'), lc.rstd1, N, C);
  return dx;
}

/** forward + backward in one call: the loss, the logits (B, T, V) and the LoRA gradients. */
export function lossAndGrads(
  model: RefModel, lora: LoraWeights, tokens: Int32Array, targets: Int32Array, B: number, T: number, opts: ForwardOptions = {},
): { loss: number; count: number; logits: FloatArray; grads: Map<string, LoraGrad> } {
  const { loss, count, logits, cache } = forward(model, lora, tokens, targets, B, T, opts);
  return { loss, count, logits, grads: backward(cache) };
}
