/**
 * The LM head with masked mean cross-entropy, one vocabulary chunk at a time so that the (N, V)
 * logits never exist whole: only (N, Vc) at once.
 *   forward   per chunk: logits = xnf W_c^T [+ scale h B_c^T] (read as softcap tanh(z / softcap) when
 *             the model caps its logits, Gemma 2); fold into the running logsumexp
 *             then finalize: per-row lse and loss, mean loss in ceStats[0]
 *   backward  per chunk: recompute logits, turn them into dlogits in place, then
 *             dxn (+)= dlogits W_c;  dB_c += scale dlogits^T h;  dh (+)= scale dlogits B_c
 *             after the chunks: dA += dh^T dropout(xnf);  dxn += dropout'(dh A);  dres = rmsnorm'(dxn)
 * DoRA on the head (lora.dora): each chunk's rows are rescaled by m / ||W + s B A||_row (./head-dora.ts).
 */
import type { Engine } from '../../engine/context';
import type { BufferRef, PreparedOp } from '../../engine/kernels/common';
import { prepareCrossEntropyBackward, prepareCrossEntropyChunk, prepareCrossEntropyFinalize } from '../../engine/kernels/cross-entropy';
import { prepareDropout } from '../../engine/kernels/dropout';
import { prepareMatmul } from '../../engine/kernels/matmul';
import { prepareLinearBackwardInput, prepareLinearForward } from '../../engine/kernels/matmul-weight';
import { prepareRmsnormBackward, prepareRmsnormForward } from '../../engine/kernels/rmsnorm';
import { MODULE_NAMES } from '../../config/lora-targets';
import type { Activations, Workspace } from './activations';
import type { BaseWeights } from './base-weights';
import type { GraphDims } from './dims';
import { flatView } from './lora-state';
import type { LoraBranch, ModuleDropout } from './projection';
import { prepareNormWeightGrad, prepareWeightGrad, type FullGrads } from './full-grads';
import { prepareHeadDoraBackward, prepareHeadDoraForward, prepareHeadDoraNorm, type HeadDoraChunk } from './head-dora';

export interface HeadContext {
  engine: Engine;
  dims: GraphDims;
  eps: number;
  /** The final norm scales by 1 + w (Gemma). */
  plusOne: boolean;
  /** tanh capping of the logits, cap * tanh(logit / cap) (Gemma 2), or null. */
  softcap: number | null;
  base: BaseWeights;
  act: Activations;
  ws: Workspace;
  /** LoRA on lm_head, or null; its `h` is act.headH. */
  lora: LoraBranch | null;
  /** Full finetuning: base buffer -> its gradient (the head's, or the tied embedding's, and the final norm's). */
  fullGrads?: FullGrads;
}

export interface PreparedHead {
  /** final norm, LoRA hidden, then per chunk: logits + CE fold; then finalize */
  forward: PreparedOp[];
  backward: PreparedOp[];
  dropouts: ModuleDropout[];
  /** Per vocabulary chunk, the ops that write its raw logits (N, w) into ws.logits (after the forward). */
  chunkLogits: PreparedOp[][];
}


export async function prepareHead(c: HeadContext): Promise<PreparedHead> {
  const { engine, dims: d, act, ws, base, lora } = c;
  const { N, C, V } = d;
  const forward: PreparedOp[] = [];
  const backward: PreparedOp[] = [];
  const dropouts: ModuleDropout[] = [];
  const state = { max: ws.ceMax, sumexp: ws.ceSum, targetLogit: ws.ceTarget };
  const slot = lora?.slot;
  const withDropout = !!(lora?.dropout && lora.dropout.p > 0 && lora.xd && lora.dxd);
  const dora = lora && slot && lora.dora ? lora.dora : null;
  const doraChunk = (i: number): HeadDoraChunk => ({
    engine, slot: slot!, params: lora!.state.params, dora: dora!, weight: base.headChunks[i], v0: d.chunks[i][0], w: d.chunks[i][1], N,
  });
  const dropout = async (out: BufferRef, inp: BufferRef, accumulate: boolean, what: string) => {
    const op = await prepareDropout(engine, { out, inp, n: N * C, p: lora!.dropout!.p, seed: lora!.dropout!.seed, stream: 0, accumulate, label: `lm_head lora dropout ${what}` });
    dropouts.push({ op, layer: 0, moduleIndex: MODULE_NAMES.indexOf('lm_head') });
    return op;
  };

  forward.push(await prepareRmsnormForward(engine, { out: act.xnf, rstd: act.rstdf, inp: act.xOut, weight: base.finalNorm, N, C, eps: c.eps, plusOne: c.plusOne, label: 'final norm' }));
  let src: BufferRef = act.xnf;
  if (lora && slot) {
    if (withDropout) {
      forward.push(await dropout(lora.xd!, act.xnf, false, 'fwd'));
      src = lora.xd!;
    }
    forward.push(await prepareMatmul(engine, { out: lora.h, a: src, b: flatView(lora.state.params, slot.offsetA, slot.r * C), M: N, N: slot.r, K: C, transB: true, label: 'lm_head lora h' }));
  }
  // DoRA: the head's row norms (V) for this step's A and B, chunk by chunk
  if (dora) for (const i of d.chunks.keys()) forward.push(...await prepareHeadDoraNorm(doraChunk(i)));

  // logits of chunk i = xnf W_i^T (+ scale h B_i^T), shared by the forward and the backward's recompute
  const logitsOps: PreparedOp[][] = [];
  for (const [i, [v0, w]] of d.chunks.entries()) {
    const ops = [await prepareLinearForward(engine, { out: ws.logits, x: act.xnf, weight: base.headChunks[i], M: N, label: `lm_head [${v0}:${v0 + w}]` })];
    if (dora) {
      ops.push(...await prepareHeadDoraForward({ ...doraChunk(i), logits: ws.logits, src, h: lora!.h }));
    } else if (lora && slot) {
      ops.push(await prepareMatmul(engine, {
        out: ws.logits, a: lora.h, b: flatView(lora.state.params, slot.offsetB + v0 * slot.r, w * slot.r), M: N, N: w, K: slot.r,
        transB: true, alpha: slot.scale, accumulate: true, label: `lm_head lora [${v0}:${v0 + w}]`,
      }));
    }
    logitsOps.push(ops);
    forward.push(...ops, await prepareCrossEntropyChunk(engine, { state, logits: ws.logits, targets: act.targets, N, V, v0, Vc: w, softcap: c.softcap, label: `cross-entropy fold [${v0}:${v0 + w}]` }));
  }
  forward.push(await prepareCrossEntropyFinalize(engine, { lse: act.rowLse, loss: ws.rowLoss, stats: ws.ceStats, state, targets: act.targets, N, V, label: 'cross-entropy finalize' }));

  // DoRA's chunks read dropout(xnf) in the backward: recompute it before them
  if (dora && withDropout) backward.push(await dropout(lora!.xd!, act.xnf, false, 'recompute'));
  for (const [i, [v0, w]] of d.chunks.entries()) {
    const first = i === 0;
    backward.push(...logitsOps[i]);
    backward.push(await prepareCrossEntropyBackward(engine, { logits: ws.logits, lse: act.rowLse, stats: ws.ceStats, targets: act.targets, N, V, v0, Vc: w, softcap: c.softcap, label: `cross-entropy bwd [${v0}:${v0 + w}]` }));
    backward.push(await prepareLinearBackwardInput(engine, { dx: ws.dxn, dy: ws.logits, weight: base.headChunks[i], M: N, accumulate: !first, label: `lm_head bwd [${v0}:${v0 + w}]` }));
    if (c.fullGrads) backward.push(...await prepareWeightGrad(engine, c.fullGrads, base.headChunks[i], act.xnf, ws.logits, N, `lm_head [${v0}:${v0 + w}]`));
    if (dora) {
      // with dropout, dxd gathers ((c - 1) dy) W_c over the chunks (dh A added after them)
      backward.push(...await prepareHeadDoraBackward({
        ...doraChunk(i), grads: lora!.state.grads, dy: ws.logits, src, h: lora!.h, dh: lora!.dh, first,
        target: withDropout ? lora!.dxd! : ws.dxn, targetAccumulate: withDropout ? !first : true,
      }));
    } else if (lora && slot) {
      backward.push(await prepareMatmul(engine, {
        out: flatView(lora.state.grads, slot.offsetB + v0 * slot.r, w * slot.r), a: ws.logits, b: lora.h, M: w, N: slot.r, K: N,
        transA: true, alpha: slot.scale, accumulate: true, label: `lm_head lora dB [${v0}:${v0 + w}]`,
      }));
      backward.push(await prepareMatmul(engine, {
        out: lora.dh, a: ws.logits, b: flatView(lora.state.params, slot.offsetB + v0 * slot.r, w * slot.r), M: N, N: slot.r, K: w,
        alpha: slot.scale, accumulate: !first, label: `lm_head lora dh [${v0}:${v0 + w}]`,
      }));
    }
  }
  if (lora && slot) {
    if (withDropout && !dora) backward.push(await dropout(lora.xd!, act.xnf, false, 'recompute'));
    backward.push(await prepareMatmul(engine, { out: flatView(lora.state.grads, slot.offsetA, slot.r * C), a: lora.dh, b: src, M: slot.r, N: C, K: N, transA: true, accumulate: true, label: 'lm_head lora dA' }));
    if (withDropout) {
      backward.push(await prepareMatmul(engine, { out: lora.dxd!, a: lora.dh, b: flatView(lora.state.params, slot.offsetA, slot.r * C), M: N, N: C, K: slot.r, accumulate: !!dora, label: 'lm_head lora dxd' }));
      backward.push(await dropout(ws.dxn, lora.dxd!, true, 'bwd'));
    } else {
      backward.push(await prepareMatmul(engine, { out: ws.dxn, a: lora.dh, b: flatView(lora.state.params, slot.offsetA, slot.r * C), M: N, N: C, K: slot.r, accumulate: true, label: 'lm_head lora dx' }));
    }
  }
  backward.push(await prepareRmsnormBackward(engine, { dinp: ws.dres, dout: ws.dxn, inp: act.xOut, weight: base.finalNorm, rstd: act.rstdf, N, C, plusOne: c.plusOne, accumulate: false, label: 'final norm bwd' }));
  if (c.fullGrads) backward.push(...await prepareNormWeightGrad(engine, c.fullGrads, base.finalNorm, { dout: ws.dxn, inp: act.xOut, rstd: act.rstdf, N, C, label: 'final norm' }));
  return { forward, backward, dropouts, chunkLogits: logitsOps };
}
