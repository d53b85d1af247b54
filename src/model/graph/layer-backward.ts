/**
 * The backward of one decoder layer. On entry `ws.dres` holds dL/d(x') (the layer's output); on
 * exit it holds dL/dx (the layer's input), unless this is the first layer, whose input gradient
 * nobody needs (the embedding is frozen): there the q/k/v input gradients are skipped.
 */
import type { PreparedOp } from '../../engine/kernels/common';
import { prepareAttentionBackward } from '../../engine/kernels/attention-backward';
import { prepareRmsnormBackward } from '../../engine/kernels/rmsnorm';
import { prepareRopeBackward } from '../../engine/kernels/rope';
import { prepareSwigluBackward } from '../../engine/kernels/swiglu';
import type { LayerLinear } from './base-weights';
import type { LayerContext } from './layer-forward';
import { prepareProjectionBackward, type ModuleDropout } from './projection';

export async function prepareLayerBackward(c: LayerContext): Promise<{ ops: PreparedOp[]; dropouts: ModuleDropout[] }> {
  const { engine, dims: d, act, weights: w, ws, layer } = c;
  const { N, C, H, KV, D, F, B, T } = d;
  const first = layer === 0;
  const ops: PreparedOp[] = [];
  const dropouts: ModuleDropout[] = [];
  const proj = async (m: LayerLinear, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer | null, accumulateDx: boolean) => {
    const p = await prepareProjectionBackward(engine, {
      label: `L${layer} ${m}`, N, weight: w.linears[m], x, y: dy, dy, dx, accumulateDx, lora: c.lora(m),
    });
    ops.push(...p.ops);
    dropouts.push(...p.dropouts);
  };

  // MLP: dres = dL/dx'  ->  da -> dg, du -> dxn -> dres += rmsnorm'(dxn)  (now dL/dx1)
  await proj('down_proj', act.a, ws.dres, ws.da, false);
  ops.push(await prepareSwigluBackward(engine, { dgate: ws.dg, dup: ws.du, dout: ws.da, gate: act.g, up: act.u, N, F, accumulate: false, label: `L${layer} swiglu bwd` }));
  await proj('gate_proj', act.xn2, ws.dg, ws.dxn, false);
  await proj('up_proj', act.xn2, ws.du, ws.dxn, true);
  ops.push(await prepareRmsnormBackward(engine, { dinp: ws.dres, dout: ws.dxn, inp: act.x1, weight: w.postNorm, rstd: act.rstd2, N, C, accumulate: true, label: `L${layer} post-attention norm bwd` }));

  // Attention: dres = dL/dx1  ->  datt -> dq, dk, dv -> rope' -> dxn -> dres += rmsnorm'(dxn)  (now dL/dx)
  await proj('o_proj', act.att, ws.dres, ws.datt, false);
  ops.push(await prepareAttentionBackward(engine, {
    dq: ws.dq, dk: ws.dk, dv: ws.dv, dout: ws.datt, q: act.q, k: act.k, v: act.v, out: act.att, lse: act.lse, dvec: ws.dvec,
    B, T, H, KV, D, label: `L${layer} attention bwd`,
  }));
  ops.push(await prepareRopeBackward(engine, { out: ws.dq, tables: c.rope, B, T, H, D, accumulate: false, label: `L${layer} rope q bwd` }));
  ops.push(await prepareRopeBackward(engine, { out: ws.dk, tables: c.rope, B, T, H: KV, D, accumulate: false, label: `L${layer} rope k bwd` }));
  await proj('q_proj', act.xn1, ws.dq, first ? null : ws.dxn, false);
  await proj('k_proj', act.xn1, ws.dk, first ? null : ws.dxn, true);
  await proj('v_proj', act.xn1, ws.dv, first ? null : ws.dxn, true);
  if (!first) {
    ops.push(await prepareRmsnormBackward(engine, { dinp: ws.dres, dout: ws.dxn, inp: act.x, weight: w.inputNorm, rstd: act.rstd1, N, C, accumulate: true, label: `L${layer} input norm bwd` }));
  }
  return { ops, dropouts };
}
