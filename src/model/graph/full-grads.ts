/**
 * Weight gradients of full finetuning, added beside the backward's input gradients (which already
 * flow through every base weight). Every gradient ACCUMULATES (the graph zeroes them once per
 * optimizer step, so micro-batches add up), and each is deterministic (no float atomics):
 *   linear     dW (out, in) += dy^T x                       (matmul, transposed A; per row shard,
 *                                                           from the shard's columns of dy)
 *   bias       db (out)     += sum over rows of dy          (column sum)
 *   norm       dw (C)       += sum over rows of dy * x * rstd   (rmsnorm bwd-weight)
 *   embedding  dE (V, C)    += scale * scatter-add of dx by token id   (per vocabulary shard)
 * `grads` maps a base buffer to its gradient buffer; a weight without one is frozen (no op).
 */
import type { Engine } from '../../engine/context';
import { refBuffer, shiftRef, type BufferRef, type PreparedOp } from '../../engine/kernels/common';
import { prepareColumnSum } from '../../engine/kernels/column-sum';
import { prepareEmbeddingBackward } from '../../engine/kernels/embedding';
import { prepareMatmul } from '../../engine/kernels/matmul';
import { prepareRmsnormBackwardWeight } from '../../engine/kernels/rmsnorm';
import type { GpuWeight, ShardedWeight } from '../../engine/kernels/weights';
import type { EmbedShard } from './base-weights';

export type FullGrads = ReadonlyMap<GPUBuffer, GPUBuffer>;

/** The gradient of a weight's words (a view at the same offset when the weight is a view, a tied head chunk). */
function gradOf(grads: FullGrads, words: BufferRef): BufferRef | null {
  const g = grads.get(refBuffer(words));
  if (!g) return null;
  return 'buffer' in words ? { buffer: g, offset: words.offset ?? 0 } : g;
}

/** dW (rows, cols) += dy^T x for one unsharded weight; dy (N, rows), x (N, cols). */
export async function prepareWeightGrad(engine: Engine, grads: FullGrads, w: GpuWeight, x: BufferRef, dy: BufferRef, N: number, label: string): Promise<PreparedOp[]> {
  const g = gradOf(grads, w.words);
  if (!g) return [];
  return [await prepareMatmul(engine, { out: g, a: dy, b: x, M: w.rows, N: w.cols, K: N, transA: true, accumulate: true, label: `${label} dW` })];
}

/**
 * dW of a linear, shard by shard: rows [r0, r0 + n) of W get dy[:, r0:r0 + n]^T x, read from dy
 * (N, rows) in place (row stride `rows`; r0 is a multiple of 64, so the view starts aligned).
 */
export async function prepareLinearWeightGrad(engine: Engine, grads: FullGrads, w: ShardedWeight, x: BufferRef, dy: BufferRef, N: number, label: string): Promise<PreparedOp[]> {
  if (w.shards.length === 1) return prepareWeightGrad(engine, grads, w.shards[0].weight, x, dy, N, label);
  const ops: PreparedOp[] = [];
  for (const { r0, weight: s } of w.shards) {
    const g = gradOf(grads, s.words);
    if (!g) continue;
    ops.push(await prepareMatmul(engine, {
      out: g, a: shiftRef(dy, 4 * r0), b: x, M: s.rows, N: s.cols, K: N, transA: true, lda: w.rows, accumulate: true,
      label: `${label} dW [${r0}:${r0 + s.rows}]`,
    }));
  }
  return ops;
}

/** db (out) += sum over the N rows of dy (N, out) for a bias; [] without one or when it is frozen. */
export async function prepareBiasGrad(engine: Engine, grads: FullGrads, bias: GPUBuffer | undefined, dy: BufferRef, N: number, out: number, label: string): Promise<PreparedOp[]> {
  const g = bias && grads.get(bias);
  if (!g) return [];
  return [await prepareColumnSum(engine, { out: g, inp: dy, N, C: out, accumulate: true, label: `${label} db` })];
}

/** dw += sum over rows of dout * inp * rstd for a norm weight; [] when it is frozen. */
export async function prepareNormWeightGrad(
  engine: Engine, grads: FullGrads, weight: GPUBuffer, a: { dout: BufferRef; inp: BufferRef; rstd: BufferRef; N: number; C: number; label: string },
): Promise<PreparedOp[]> {
  const g = grads.get(weight);
  if (!g) return [];
  return [await prepareRmsnormBackwardWeight(engine, { dweight: g, dout: a.dout, inp: a.inp, rstd: a.rstd, N: a.N, C: a.C, accumulate: true, label: `${a.label} dw` })];
}

/** dE += scale * scatter-add of dx (N, C) over the tokens, one op per vocabulary shard. */
export async function prepareEmbeddingGrads(
  engine: Engine, grads: FullGrads, shards: readonly EmbedShard[], a: { dx: BufferRef; tokens: BufferRef; N: number; C: number; scale?: number },
): Promise<PreparedOp[]> {
  const ops: PreparedOp[] = [];
  for (const s of shards) {
    const g = grads.get(s.buffer);
    if (!g) continue;
    ops.push(await prepareEmbeddingBackward(engine, {
      dtable: g, dout: a.dx, tokens: a.tokens, N: a.N, C: a.C, V: s.rows, v0: s.v0, scale: a.scale, accumulate: true,
      label: `embedding dE [${s.v0}:${s.v0 + s.rows}]`,
    }));
  }
  return ops;
}
