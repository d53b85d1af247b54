/**
 * The backward of one decoder layer (the forward's steps in reverse, see ./layer-forward.ts). On entry `ws.dres` holds dL/d(x') (the layer's output); on
 * exit it holds dL/dx (the layer's input), unless this is the first layer, whose input gradient
 * nobody needs (the embedding is frozen): there the q/k/v input gradients are skipped.
 * The MLP runs per token-row chunk of dims.mlpChunks as in the forward, its (rows, F) gradients in
 * the one-chunk workspace; its weight gradients accumulate over the chunks.
 */
import type { BufferRef, PreparedOp } from '../../engine/kernels/common';
import { prepareAttentionBackward } from '../../engine/kernels/attention-backward';
import { prepareRmsnormBackward } from '../../engine/kernels/rmsnorm';
import { prepareRopeBackward } from '../../engine/kernels/rope';
import { prepareSwigluBackward } from '../../engine/kernels/swiglu';
import type { LayerLinear } from './base-weights';
import type { LayerContext } from './layer-forward';
import { prepareProjectionBackward, type ModuleDropout } from './projection';
import { prepareBiasGrad, prepareLinearWeightGrad, prepareNormWeightGrad } from './full-grads';
import { chunkLabel, rowsFrom } from './mlp-chunks';

export async function prepareLayerBackward(c: LayerContext): Promise<{ ops: PreparedOp[]; dropouts: ModuleDropout[] }> {
  const { engine, dims: d, act, weights: w, ws, layer } = c;
  const { N, C, H, KV, D, F, B, T } = d;
  // Full finetuning needs the first layer's input gradient too (for the embedding's).
  const first = layer === 0 && !c.fullGrads;
  const ops: PreparedOp[] = [];
  const dropouts: ModuleDropout[] = [];
  /** `rows` from `row0`: an MLP chunk (x, dy, dx are then its rows); default all N. */
  const proj = async (m: LayerLinear, x: BufferRef, dy: BufferRef, dx: BufferRef | null, accumulateDx: boolean, rows = N, row0 = 0, suffix = '') => {
    const p = await prepareProjectionBackward(engine, {
      label: `L${layer} ${m}${suffix}`, N: rows, row0, weight: w.linears[m], x, y: dy, dy, dx, accumulateDx, lora: c.lora(m),
    });
    ops.push(...p.ops);
    dropouts.push(...p.dropouts);
    if (c.fullGrads) {
      ops.push(...await prepareLinearWeightGrad(engine, c.fullGrads, w.linears[m], x, dy, rows, `L${layer} ${m}${suffix}`));
      ops.push(...await prepareBiasGrad(engine, c.fullGrads, w.bias[m as keyof typeof w.bias], dy, rows, w.linears[m].rows, `L${layer} ${m}${suffix}`));
    }
  };

  const { plusOne } = c.arch;
  const normBack = async (dinp: GPUBuffer, dout: GPUBuffer, inp: GPUBuffer, weight: GPUBuffer, rstd: GPUBuffer, rows: number, cols: number, accumulate: boolean, what: string) => {
    ops.push(await prepareRmsnormBackward(engine, { dinp, dout, inp, weight, rstd, N: rows, C: cols, plusOne, accumulate, label: `L${layer} ${what} bwd` }));
    if (c.fullGrads) ops.push(...await prepareNormWeightGrad(engine, c.fullGrads, weight, { dout, inp, rstd, N: rows, C: cols, label: `L${layer} ${what}` }));
  };
  const sw = act.sandwich;

  // MLP: dres = dL/dx'  ->  [dm = sandwich'(dres)] -> da -> dg, du -> dxn -> dres += rmsnorm'(dxn)  (now dL/dx1)
  if (sw) await normBack(ws.dsub!, ws.dres, sw.m, w.mlpOutNorm!, sw.rstdM, N, C, false, 'mlp out norm');
  const dmlp = sw ? ws.dsub! : ws.dres; // (N, C) gradient of the MLP's output
  // Per token-row chunk: its rows (rows, C) of dmlp -> da, dg, du (rows, F) -> its rows of dxn.
  for (const [k, range] of d.mlpChunks.entries()) {
    const [n0, rows] = range;
    const at = chunkLabel(d.mlpChunks, range);
    const xn2 = rowsFrom(act.xn2, n0, C);
    const dxn = rowsFrom(ws.dxn, n0, C);
    await proj('down_proj', act.a[k], rowsFrom(dmlp, n0, C), ws.da, false, rows, n0, at);
    ops.push(await prepareSwigluBackward(engine, {
      dgate: ws.dg, dup: ws.du, dout: ws.da, gate: act.g[k], up: act.u[k], N: rows, F, activation: c.arch.activation, accumulate: false, label: `L${layer} gated bwd${at}`,
    }));
    await proj('gate_proj', xn2, ws.dg, dxn, false, rows, n0, at);
    await proj('up_proj', xn2, ws.du, dxn, true, rows, n0, at);
  }
  await normBack(ws.dres, ws.dxn, act.x1, w.mlpNorm, act.rstd2, N, C, true, 'mlp norm');

  // Attention: dres = dL/dx1  ->  [do = sandwich'(dres)] -> datt -> dq, dk, dv -> rope' -> [qk norm'] -> dxn -> dres += rmsnorm'(dxn)  (now dL/dx)
  if (sw) {
    await normBack(ws.dsub!, ws.dres, sw.o, w.attnOutNorm!, sw.rstdO, N, C, false, 'attention out norm');
    await proj('o_proj', act.att, ws.dsub!, ws.datt, false);
  } else {
    await proj('o_proj', act.att, ws.dres, ws.datt, false);
  }
  ops.push(await prepareAttentionBackward(engine, {
    dq: ws.dq, dk: ws.dk, dv: ws.dv, dout: ws.datt, q: act.q, k: act.k, v: act.v, out: act.att, lse: act.lse, dvec: ws.dvec,
    B, T, H, KV, D, scale: c.arch.attnScale, window: c.arch.window, softcap: c.arch.softcap, label: `L${layer} attention bwd`,
  }));
  ops.push(await prepareRopeBackward(engine, { out: ws.dq, tables: c.rope, B, T, H, D, accumulate: false, label: `L${layer} rope q bwd` }));
  ops.push(await prepareRopeBackward(engine, { out: ws.dk, tables: c.rope, B, T, H: KV, D, accumulate: false, label: `L${layer} rope k bwd` }));
  let dq = ws.dq;
  let dk = ws.dk;
  if (act.qk) {
    await normBack(ws.dqp!, ws.dq, act.qk.qp, w.qNorm!, act.qk.rstdQ, N * H, D, false, 'q norm');
    await normBack(ws.dkp!, ws.dk, act.qk.kp, w.kNorm!, act.qk.rstdK, N * KV, D, false, 'k norm');
    dq = ws.dqp!;
    dk = ws.dkp!;
  }
  await proj('q_proj', act.xn1, dq, first ? null : ws.dxn, false);
  await proj('k_proj', act.xn1, dk, first ? null : ws.dxn, true);
  await proj('v_proj', act.xn1, ws.dv, first ? null : ws.dxn, true);
  if (!first) await normBack(ws.dres, ws.dxn, act.x, w.inputNorm, act.rstd1, N, C, true, 'input norm');
  return { ops, dropouts };
}
