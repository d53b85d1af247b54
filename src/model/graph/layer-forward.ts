/**
 * The forward of one decoder layer as prepared ops (Hugging Face semantics):
 *   xn1 = rmsnorm(x); q, k, v = proj(xn1); [q, k = per-head rmsnorm(q, k)]; rope(q, k)
 *   att = attention(q, k, v)  (scale, sliding window and softcap of this layer)
 *   x1 = x + [rmsnorm](o_proj(att)); xn2 = rmsnorm(x1); a = act(gate(xn2)) * up(xn2)
 *   x' = x1 + [rmsnorm](down(a))
 * Brackets: the per-head q/k norms (Qwen3, Gemma 3) and Gemma's sandwich norms; every norm scales by
 * 1 + w on Gemma (see src/config/architecture-features.ts).
 * With bf16 activations each activation the backward reads is stored as a packed bf16 copy as soon
 * as it is written (`keep`, ./bf16-activations.ts); the forward itself reads the f32 values.
 * The MLP (gate, up, the gated activation, down) runs once per token-row chunk of dims.mlpChunks
 * (./mlp-chunks.ts): once over all N rows unless (N, F) is above one binding.
 */
import type { Engine } from '../../engine/context';
import type { BufferRef, PreparedOp } from '../../engine/kernels/common';
import { prepareAttentionForward } from '../../engine/kernels/attention-forward';
import { prepareAdd } from '../../engine/kernels/elementwise';
import { prepareRmsnormForward } from '../../engine/kernels/rmsnorm';
import { prepareRopeForward, type RopeTables } from '../../engine/kernels/rope';
import { prepareSwigluForward } from '../../engine/kernels/swiglu';
import type { LayerArchitecture } from './layer-architecture';
import type { LayerActivations, Workspace } from './activations';
import type { LayerWeights, LayerLinear } from './base-weights';
import type { GraphDims } from './dims';
import { chunkLabel, rowsFrom } from './mlp-chunks';
import { prepareProjectionForward, type LoraBranch, type ModuleDropout } from './projection';
import { prepareStore, type Bf16Field } from './bf16-activations';
import type { FullGrads } from './full-grads';

export interface LayerContext {
  engine: Engine;
  dims: GraphDims;
  layer: number;
  arch: LayerArchitecture;
  weights: LayerWeights;
  act: LayerActivations;
  /** The residual stream after this layer (the next layer's x). */
  xNext: GPUBuffer;
  ws: Workspace;
  rope: RopeTables;
  /** The LoRA branch of a module of this layer, or null when it is not adapted. */
  lora(module: LayerLinear): LoraBranch | null;
  /** Full finetuning: base buffer -> its gradient (./full-grads.ts); absent with LoRA (the base is frozen). */
  fullGrads?: FullGrads;
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
  /** `rows` from `row0`: an MLP chunk (x and y are then its rows); default all N. */
  const proj = async (m: LayerLinear, x: BufferRef, y: BufferRef, hiddenOnly = false, rows = N, row0 = 0, suffix = '') => {
    const p = await prepareProjectionForward(engine, { label: `L${layer} ${m}${suffix}`, N: rows, row0, weight: w.linears[m], bias: w.bias[m as 'q_proj'], x, y, lora: c.lora(m), hiddenOnly });
    ops.push(...p.ops);
    dropouts.push(...p.dropouts);
  };

  /** `chunk`: for g / u / a, the MLP chunk just written. */
  const keep = async (fields: Bf16Field[], chunk?: number) => {
    for (const f of fields) ops.push(...await prepareStore(engine, d, act, f, recompute, `L${layer}`, chunk));
  };

  const { eps, plusOne } = c.arch;
  const norm = async (out: GPUBuffer, rstd: GPUBuffer, inp: GPUBuffer, weight: GPUBuffer, rows: number, cols: number, what: string) => {
    ops.push(await prepareRmsnormForward(engine, { out, rstd, inp, weight, N: rows, C: cols, eps, plusOne, label: `L${layer} ${what}` }));
  };

  await keep(['x']);
  await norm(act.xn1, act.rstd1, act.x, w.inputNorm, N, C, 'input norm');
  await keep(['xn1']);
  if (act.qk) {
    // Per-head norms: q (N, H*D) is N*H contiguous rows of D.
    await proj('q_proj', act.xn1, act.qk.qp);
    await proj('k_proj', act.xn1, act.qk.kp);
    await keep(['qp', 'kp']);
    await norm(act.q, act.qk.rstdQ, act.qk.qp, w.qNorm!, N * H, D, 'q norm');
    await norm(act.k, act.qk.rstdK, act.qk.kp, w.kNorm!, N * KV, D, 'k norm');
  } else {
    await proj('q_proj', act.xn1, act.q);
    await proj('k_proj', act.xn1, act.k);
  }
  await proj('v_proj', act.xn1, act.v);
  await keep(['v']);
  ops.push(await prepareRopeForward(engine, { out: act.q, tables: c.rope, B, T, H, D, label: `L${layer} rope q` }));
  ops.push(await prepareRopeForward(engine, { out: act.k, tables: c.rope, B, T, H: KV, D, label: `L${layer} rope k` }));
  await keep(['q', 'k']);
  ops.push(await prepareAttentionForward(engine, {
    out: act.att, lse: act.lse, q: act.q, k: act.k, v: act.v, B, T, H, KV, D,
    scale: c.arch.attnScale, window: c.arch.window, softcap: c.arch.softcap, label: `L${layer} attention`,
  }));
  await keep(['att']);
  const sw = act.sandwich;
  if (sw) {
    await proj('o_proj', act.att, sw.o);
    await keep(['o']);
    await norm(ws.tmpC, sw.rstdO, sw.o, w.attnOutNorm!, N, C, 'attention out norm');
  } else {
    await proj('o_proj', act.att, ws.tmpC);
  }
  ops.push(await prepareAdd(engine, { out: act.x1, a: act.x, b: ws.tmpC, n: N * C, label: `L${layer} residual 1` }));
  await keep(['x1']);
  await norm(act.xn2, act.rstd2, act.x1, w.mlpNorm, N, C, 'mlp norm');
  await keep(['xn2']);
  // The MLP per token-row chunk: xn2 rows (rows, C) -> g, u, a (rows, F) -> the chunk's rows of the output (rows, C).
  for (const [k, range] of d.mlpChunks.entries()) {
    const [n0, rows] = range;
    const at = chunkLabel(d.mlpChunks, range);
    const xn2 = rowsFrom(act.xn2, n0, C);
    await proj('gate_proj', xn2, act.g[k], false, rows, n0, at);
    await proj('up_proj', xn2, act.u[k], false, rows, n0, at);
    await keep(['g', 'u'], k);
    ops.push(await prepareSwigluForward(engine, { out: act.a[k], gate: act.g[k], up: act.u[k], N: rows, F, activation: c.arch.activation, label: `L${layer} gated ${c.arch.activation}${at}` }));
    await keep(['a'], k);
    // Recompute needs m and its rstd (the sandwich norm's backward reads them), so down_proj runs in full.
    if (sw) await proj('down_proj', act.a[k], rowsFrom(sw.m, n0, C), false, rows, n0, at);
    else await proj('down_proj', act.a[k], rowsFrom(ws.tmpC, n0, C), recompute, rows, n0, at);
  }
  if (sw) {
    await keep(['m']);
    await norm(ws.tmpC, sw.rstdM, sw.m, w.mlpOutNorm!, N, C, 'mlp out norm');
  }
  if (recompute) return { ops, dropouts };
  ops.push(await prepareAdd(engine, { out: c.xNext, a: act.x1, b: ws.tmpC, n: N * C, label: `L${layer} residual 2` }));
  return { ops, dropouts };
}
