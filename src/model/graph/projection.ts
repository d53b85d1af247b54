/**
 * One linear layer of the model with its optional LoRA branch, as prepared ops:
 *   forward   y = x W^T (+ b)  [+ scale * (dropout(x) A^T) B^T]
 *   backward  dx (+)= dy W     [+ dropout'(scale * dy B A)],  dA += (scale dy B)^T dropout(x),  dB += scale dy^T h
 * LoRA gradients always accumulate (the graph zeroes them once per optimizer step, so micro-batches
 * add up). With dropout, the dropped input is recomputed in the backward from the same RNG stream
 * instead of being stored. `row0` runs the projection on rows [row0, row0 + N) of a longer batch
 * (the MLP's token-row chunks, ./mlp-chunks.ts): x, y, dy and dx are those rows, the LoRA hidden h
 * is bound from row row0, the dropout mask is the whole input's (from element row0 * in), and DoRA's
 * norm (per module, not per token) is computed by the chunk at row 0 only.
 */
import type { Engine } from '../../engine/context';
import { shiftRef, type BufferRef, type PreparedOp } from '../../engine/kernels/common';
import { prepareDropout, type PreparedDropout } from '../../engine/kernels/dropout';
import { prepareMatmul } from '../../engine/kernels/matmul';
import { prepareShardedLinearBackwardInput, prepareShardedLinearForward } from '../../engine/kernels/matmul-weight';
import type { ShardedWeight } from '../../engine/kernels/weights';
import { MODULE_NAMES } from '../../config/lora-targets';
import type { LoraSlot } from '../plan/lora-layout';
import type { LoraState } from './lora-state';
import { slotViews } from './lora-state';
import { prepareDoraBackward, prepareDoraForward, type DoraBuffers } from './dora';

export interface LoraBranch {
  slot: LoraSlot;
  state: LoraState;
  /** (N, r) kept from the forward for dB (all rows of the batch, also when the projection runs on a row chunk) */
  h: GPUBuffer;
  /** (N, max in) scratch for dropout(x), bound from its start (rows of a chunk too); null without dropout */
  xd: GPUBuffer | null;
  /** (N, max in) scratch for the gradient of dropout(x), bound from its start */
  dxd: GPUBuffer | null;
  /** (N, max r) scratch, bound from its start */
  dh: GPUBuffer;
  dropout: { p: number; seed: number } | null;
  /** DoRA (slot.offsetM set): the module's norm and the shared scratch (./dora.ts); absent for plain LoRA. */
  dora?: DoraBuffers;
}

export interface ProjectionArgs {
  label: string;
  /** rows of x: all N tokens, or the rows of one chunk */
  N: number;
  /** first row of x in the batch (MLP token-row chunks; default 0) */
  row0?: number;
  weight: ShardedWeight; // (out, in), in row shards
  bias?: GPUBuffer; //  (out)
  x: BufferRef; //      (N, in)
  y: BufferRef; //      (N, out)
  lora: LoraBranch | null;
  /** Only the LoRA hidden h (activation checkpointing refills it for dB; the output is kept). */
  hiddenOnly?: boolean;
}

/** A dropout op and the LoRA module whose RNG stream it draws from (set per micro-batch). */
export interface ModuleDropout {
  op: PreparedDropout;
  layer: number;
  moduleIndex: number;
}

/** Ops of one projection; `dropouts` need their stream set per micro-batch (see ModuleDropout). */
export interface PreparedProjection {
  ops: PreparedOp[];
  dropouts: ModuleDropout[];
}

/** Rows [row0, ...) of a branch's hidden h (N, r). */
function hiddenRows(b: LoraBranch, row0: number): BufferRef {
  return shiftRef(b.h, 4 * row0 * b.slot.r);
}

function moduleDropout(op: PreparedDropout, slot: LoraSlot): ModuleDropout {
  return { op, layer: slot.layer ?? 0, moduleIndex: MODULE_NAMES.indexOf(slot.module) };
}

export async function prepareProjectionForward(engine: Engine, a: ProjectionArgs): Promise<PreparedProjection> {
  const ops: PreparedOp[] = a.hiddenOnly ? [] : await prepareShardedLinearForward(engine, { out: a.y, x: a.x, weight: a.weight, bias: a.bias, M: a.N, label: `${a.label} fwd` });
  const dropouts: ModuleDropout[] = [];
  const b = a.lora;
  if (b) {
    const { slot } = b;
    const { A, B } = slotViews(b.state.params, slot);
    const row0 = a.row0 ?? 0;
    const h = hiddenRows(b, row0);
    let src: BufferRef = a.x;
    if (b.dropout && b.dropout.p > 0 && b.xd) {
      const d = await prepareDropout(engine, {
        out: b.xd, inp: a.x, n: a.N * slot.inFeatures, p: b.dropout.p, seed: b.dropout.seed, stream: 0,
        elementOffset: row0 * slot.inFeatures, label: `${a.label} lora dropout`,
      });
      ops.push(d);
      dropouts.push(moduleDropout(d, slot));
      src = b.xd;
    }
    // h (N, r) = src (N, in) A^T
    ops.push(await prepareMatmul(engine, { out: h, a: src, b: A, M: a.N, N: slot.r, K: slot.inFeatures, transB: true, label: `${a.label} lora h` }));
    if (a.hiddenOnly) return { ops, dropouts };
    if (b.dora) {
      ops.push(...await prepareDoraForward({ engine, label: a.label, N: a.N, slot, params: b.state.params, weight: a.weight, dora: b.dora, src, y: a.y, h, withNorm: row0 === 0 }));
      return { ops, dropouts };
    }
    // y (N, out) += scale * h B^T
    ops.push(await prepareMatmul(engine, {
      out: a.y, a: h, b: B, M: a.N, N: slot.outFeatures, K: slot.r, transB: true, alpha: slot.scale, accumulate: true, label: `${a.label} lora out`,
    }));
  }
  return { ops, dropouts };
}

export interface ProjectionBackwardArgs extends ProjectionArgs {
  /** (N, out) */
  dy: BufferRef;
  /** (N, in); null when nobody needs the input gradient (the first layer's q/k/v) */
  dx: BufferRef | null;
  /** dx += instead of dx = */
  accumulateDx: boolean;
}

export async function prepareProjectionBackward(engine: Engine, a: ProjectionBackwardArgs): Promise<PreparedProjection> {
  const ops: PreparedOp[] = [];
  const dropouts: ModuleDropout[] = [];
  const N = a.N;
  if (a.dx) {
    ops.push(...await prepareShardedLinearBackwardInput(engine, { dx: a.dx, dy: a.dy, weight: a.weight, M: N, accumulate: a.accumulateDx, label: `${a.label} bwd` }));
  }
  const b = a.lora;
  if (!b) return { ops, dropouts };
  const { slot } = b;
  const { r, inFeatures: K, outFeatures: O, scale } = slot;
  const { A, B } = slotViews(b.state.params, slot);
  const grads = slotViews(b.state.grads, slot);
  const row0 = a.row0 ?? 0;
  const h = hiddenRows(b, row0);
  const withDropout = !!(b.dropout && b.dropout.p > 0 && b.xd && b.dxd);
  const dropout = (out: BufferRef, inp: BufferRef, accumulate: boolean, what: string) => prepareDropout(engine, {
    out, inp, n: N * K, p: b.dropout!.p, seed: b.dropout!.seed, stream: 0, accumulate, elementOffset: row0 * K, label: `${a.label} lora dropout ${what}`,
  });
  /** dropout(x) recomputed from the forward's stream (it is not stored), or x itself without dropout. */
  const droppedInput = async (): Promise<BufferRef> => {
    if (!withDropout) return a.x;
    const d = await dropout(b.xd!, a.x, false, 'recompute');
    ops.push(d);
    dropouts.push(moduleDropout(d, slot));
    return b.xd!;
  };
  if (b.dora) {
    const src = await droppedInput();
    const dxd = withDropout && a.dx ? b.dxd! : null;
    ops.push(...await prepareDoraBackward({ engine, label: a.label, N, slot, params: b.state.params, grads: b.state.grads, weight: a.weight, dora: b.dora, src, h, dh: b.dh, dy: a.dy, dx: a.dx, dxd }));
    if (dxd && a.dx) {
      const d = await dropout(a.dx, dxd, true, 'backward');
      ops.push(d);
      dropouts.push(moduleDropout(d, slot));
    }
    return { ops, dropouts };
  }

  // dB (O, r) += scale * dy^T h
  ops.push(await prepareMatmul(engine, { out: grads.B, a: a.dy, b: h, M: O, N: r, K: N, transA: true, alpha: scale, accumulate: true, label: `${a.label} lora dB` }));
  // dh (N, r) = scale * dy B
  ops.push(await prepareMatmul(engine, { out: b.dh, a: a.dy, b: B, M: N, N: r, K: O, alpha: scale, label: `${a.label} lora dh` }));
  const src = await droppedInput();
  // dA (r, K) += dh^T src
  ops.push(await prepareMatmul(engine, { out: grads.A, a: b.dh, b: src, M: r, N: K, K: N, transA: true, accumulate: true, label: `${a.label} lora dA` }));
  if (a.dx) {
    if (withDropout) {
      // dxd (N, K) = dh A; dx += dropout'(dxd)
      ops.push(await prepareMatmul(engine, { out: b.dxd!, a: b.dh, b: A, M: N, N: K, K: r, label: `${a.label} lora dxd` }));
      const d = await dropout(a.dx, b.dxd!, true, 'backward');
      ops.push(d);
      dropouts.push(moduleDropout(d, slot));
    } else {
      ops.push(await prepareMatmul(engine, { out: a.dx, a: b.dh, b: A, M: N, N: K, K: r, accumulate: true, label: `${a.label} lora dx` }));
    }
  }
  return { ops, dropouts };
}
