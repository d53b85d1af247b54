/**
 * The forward of one decoder layer as prepared ops (Hugging Face Llama semantics):
 *   xn1 = rmsnorm(x); q, k, v = proj(xn1); rope(q, k); att = attention(q, k, v)
 *   x1 = x + o_proj(att); xn2 = rmsnorm(x1); a = silu(gate(xn2)) * up(xn2); x' = x1 + down(a)
 */
import type { Engine } from '../../engine/context';
import type { PreparedOp } from '../../engine/kernels/common';
import { prepareAttentionForward } from '../../engine/kernels/attention-forward';
import { prepareAdd } from '../../engine/kernels/elementwise';
import { prepareRmsnormForward } from '../../engine/kernels/rmsnorm';
import { prepareRopeForward, type RopeTables } from '../../engine/kernels/rope';
import { prepareSwigluForward } from '../../engine/kernels/swiglu';
import type { LayerActivations, Workspace } from './activations';
import type { LayerWeights, LayerLinear } from './base-weights';
import type { GraphDims } from './dims';
import { prepareProjectionForward, type LoraBranch, type ModuleDropout } from './projection';

export interface LayerContext {
  engine: Engine;
  dims: GraphDims;
  layer: number;
  eps: number;
  weights: LayerWeights;
  act: LayerActivations;
  /** The residual stream after this layer (the next layer's x). */
  xNext: GPUBuffer;
  ws: Workspace;
  rope: RopeTables;
  /** The LoRA branch of a module of this layer, or null when it is not adapted. */
  lora(module: LayerLinear): LoraBranch | null;
}

/**
 * `recompute` (activation checkpointing, in the backward): refill the layer's activations from its
 * saved input; of down_proj only its LoRA hidden (its output, the next layer's input, is kept).
 */
export async function prepareLayerForward(c: LayerContext, recompute = false): Promise<{ ops: PreparedOp[]; dropouts: ModuleDropout[] }> {
  const { engine, dims: d, act, weights: w, ws } = c;
  const { N, C, H, KV, D, F, B, T } = d;
  const layer = recompute ? `${c.layer} recompute` : c.layer;
  const ops: PreparedOp[] = [];
  const dropouts: ModuleDropout[] = [];
  const proj = async (m: LayerLinear, x: GPUBuffer, y: GPUBuffer, hiddenOnly = false) => {
    const p = await prepareProjectionForward(engine, { label: `L${layer} ${m}`, N, weight: w.linears[m], bias: w.bias[m as 'q_proj'], x, y, lora: c.lora(m), hiddenOnly });
    ops.push(...p.ops);
    dropouts.push(...p.dropouts);
  };

  ops.push(await prepareRmsnormForward(engine, { out: act.xn1, rstd: act.rstd1, inp: act.x, weight: w.inputNorm, N, C, eps: c.eps, label: `L${layer} input norm` }));
  await proj('q_proj', act.xn1, act.q);
  await proj('k_proj', act.xn1, act.k);
  await proj('v_proj', act.xn1, act.v);
  ops.push(await prepareRopeForward(engine, { out: act.q, tables: c.rope, B, T, H, D, label: `L${layer} rope q` }));
  ops.push(await prepareRopeForward(engine, { out: act.k, tables: c.rope, B, T, H: KV, D, label: `L${layer} rope k` }));
  ops.push(await prepareAttentionForward(engine, { out: act.att, lse: act.lse, q: act.q, k: act.k, v: act.v, B, T, H, KV, D, label: `L${layer} attention` }));
  await proj('o_proj', act.att, ws.tmpC);
  ops.push(await prepareAdd(engine, { out: act.x1, a: act.x, b: ws.tmpC, n: N * C, label: `L${layer} residual 1` }));
  ops.push(await prepareRmsnormForward(engine, { out: act.xn2, rstd: act.rstd2, inp: act.x1, weight: w.postNorm, N, C, eps: c.eps, label: `L${layer} post-attention norm` }));
  await proj('gate_proj', act.xn2, act.g);
  await proj('up_proj', act.xn2, act.u);
  ops.push(await prepareSwigluForward(engine, { out: act.a, gate: act.g, up: act.u, N, F, label: `L${layer} swiglu` }));
  await proj('down_proj', act.a, ws.tmpC, recompute);
  if (recompute) return { ops, dropouts };
  ops.push(await prepareAdd(engine, { out: c.xNext, a: act.x1, b: ws.tmpC, n: N * C, label: `L${layer} residual 2` }));
  return { ops, dropouts };
}
