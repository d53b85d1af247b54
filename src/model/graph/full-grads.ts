/**
 * Weight gradients of full finetuning, added beside the backward's input gradients (which already
 * flow through every base weight). Every gradient ACCUMULATES (the graph zeroes them once per
 * optimizer step, so micro-batches add up), and each is deterministic (no float atomics):
 *   linear     dW (out, in) += dy^T x                       (matmul, transposed A)
 *   norm       dw (C)       += sum over rows of dy * x * rstd   (rmsnorm bwd-weight)
 *   embedding  dE (V, C)    += scale * scatter-add of dx by token id   (per vocabulary shard)
 * `grads` maps a base buffer to its gradient buffer; a weight without one is frozen (no op).
 */
import type { Engine } from '../../engine/context';
import { refBuffer, type BufferRef, type PreparedOp } from '../../engine/kernels/common';
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

/** dW of a linear; a weight cut in row shards is refused (its dy columns are not contiguous). */
export async function prepareLinearWeightGrad(engine: Engine, grads: FullGrads, w: ShardedWeight, x: BufferRef, dy: BufferRef, N: number, label: string): Promise<PreparedOp[]> {
  if (!w.shards.some((s) => grads.has(refBuffer(s.weight.words)))) return [];
  if (w.shards.length > 1) {
    throw new RangeError(`${label}: full finetuning needs each linear in one GPU binding, but this (${w.rows}, ${w.cols}) f32 weight is cut in ${w.shards.length} row shards; use LoRA or a GPU with larger bindings`);
  }
  return prepareWeightGrad(engine, grads, w.shards[0].weight, x, dy, N, label);
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
