/**
 * Products with a frozen base weight W (N, K) in any storage format (shaders/matmul_weight.wgsl):
 *   forward         out (M, N) = x (M, K) W^T (+ bias (N))         prepareLinearForward
 *   backward-input  dx  (M, K) (+)= dy (M, N) W                    prepareLinearBackwardInput
 * W is dequantized inside the tile loads; no dequantized copy of it ever exists. A weight in row
 * shards (`ShardedWeight`: too large for one binding) is one op per shard: the forward writes the
 * shard's columns of out, the backward adds dy's columns of the shard times the shard.
 */
import body from '../../../shaders/matmul_weight.wgsl?raw';
import registerBlock from '../../../shaders/lib/register_block.wgsl?raw';
import weightDecode from '../../../shaders/lib/weight_decode.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec } from '../pipelines';
import { checkDims, checkNoAlias, makeOp, resolveBindings, shiftRef, uniformBlock, type BufferRef, type PreparedOp } from './common';
import type { GpuWeight, ShardedWeight } from './weights';
import { ELEMENTS_PER_WORD } from '../../reference/quant/packed';

/** The module: the shared 8 x 8 register block, then this kernel. */
const shader = `${registerBlock}\n${weightDecode}\n${body}`;

const FORMAT_ID = { f32: 0, f16: 1, bf16: 2, int8: 3, nf4: 4 } as const;
const LAYOUT = layoutSpec(['uniform', 'read', 'read', 'read', 'read', 'read', 'rw']);
const TILE = 64;

export interface LinearForwardArgs {
  /** (M, N) */
  out: BufferRef;
  /** (M, K) */
  x: BufferRef;
  /** (N, K) */
  weight: GpuWeight;
  /** (N), optional */
  bias?: BufferRef;
  /** rows of x: tokens */
  M: number;
  accumulate?: boolean;
  label?: string;
}

export interface LinearBackwardInputArgs {
  /** (M, K) */
  dx: BufferRef;
  /** (M, N) */
  dy: BufferRef;
  /** (N, K) */
  weight: GpuWeight;
  M: number;
  /** dx += dy W instead of dx = dy W */
  accumulate?: boolean;
  label?: string;
}

export function prepareLinearForward(engine: Engine, a: LinearForwardArgs): Promise<PreparedOp> {
  const { rows: N, cols: K } = a.weight;
  return prepareWeightMatmul(engine, {
    out: a.out, a: a.x, weight: a.weight, bias: a.bias, M: a.M, N, K, transW: true,
    accumulate: a.accumulate, label: a.label ?? `linear fwd ${a.weight.format} ${a.M}x${N}x${K}`,
  });
}

export function prepareLinearBackwardInput(engine: Engine, a: LinearBackwardInputArgs): Promise<PreparedOp> {
  const { rows: N, cols: K } = a.weight;
  // In matmul terms the contraction runs over W's rows: C (M, K) = A (M, N) B (N, K) with B = W.
  return prepareWeightMatmul(engine, {
    out: a.dx, a: a.dy, weight: a.weight, M: a.M, N: K, K: N, transW: false,
    accumulate: a.accumulate, label: a.label ?? `linear bwd-input ${a.weight.format} ${a.M}x${K}x${N}`,
  });
}

/** out (M, N) = x W^T (+ bias) with W in row shards: one op per shard, each writing its columns of out. */
export async function prepareShardedLinearForward(engine: Engine, a: Omit<LinearForwardArgs, 'weight'> & { weight: ShardedWeight }): Promise<PreparedOp[]> {
  const { rows: N, cols: K } = a.weight;
  const label = a.label ?? `linear fwd ${a.weight.format} ${a.M}x${N}x${K}`;
  const one = a.weight.shards.length === 1;
  const ops: PreparedOp[] = [];
  for (const { r0, weight: w } of a.weight.shards) {
    ops.push(await prepareWeightMatmul(engine, {
      out: shiftRef(a.out, 4 * r0), a: a.x, weight: w, bias: a.bias && shiftRef(a.bias, 4 * r0), M: a.M, N: w.rows, K, transW: true,
      ldc: N, accumulate: a.accumulate, label: one ? label : `${label} [${r0}:${r0 + w.rows}]`,
    }));
  }
  return ops;
}

/** dx (M, K) (+)= dy (M, N) W with W in row shards: each shard adds dy's columns of it times it. */
export async function prepareShardedLinearBackwardInput(engine: Engine, a: Omit<LinearBackwardInputArgs, 'weight'> & { weight: ShardedWeight }): Promise<PreparedOp[]> {
  const { rows: N, cols: K } = a.weight;
  const label = a.label ?? `linear bwd-input ${a.weight.format} ${a.M}x${K}x${N}`;
  const one = a.weight.shards.length === 1;
  const ops: PreparedOp[] = [];
  for (const [i, { r0, weight: w }] of a.weight.shards.entries()) {
    ops.push(await prepareWeightMatmul(engine, {
      out: a.dx, a: shiftRef(a.dy, 4 * r0), weight: w, M: a.M, N: K, K: w.rows, transW: false,
      lda: N, accumulate: i > 0 || a.accumulate, label: one ? label : `${label} [${r0}:${r0 + w.rows}]`,
    }));
  }
  return ops;
}

interface WeightMatmulArgs {
  out: BufferRef; a: BufferRef; weight: GpuWeight; bias?: BufferRef;
  /** out (M, N) = a (M, K) op(W): op(W) = W^T when transW */
  M: number; N: number; K: number; transW: boolean;
  /** Row strides of a and out in elements (default K and N): a row shard's columns of a wider matrix. */
  lda?: number; ldc?: number;
  accumulate?: boolean; label: string;
}

async function prepareWeightMatmul(engine: Engine, p: WeightMatmulArgs): Promise<PreparedOp> {
  const { M, N, K, label, weight: w } = p;
  const lda = p.lda ?? K;
  const ldc = p.ldc ?? N;
  checkDims(label, { M, N, K });
  if (lda < K || ldc < N) throw new RangeError(`${label}: row strides lda ${lda}, ldc ${ldc} must be at least K ${K}, N ${N}`);
  const numel = w.rows * w.cols;
  const nblocks = Math.ceil(numel / 64);
  const dq = !!w.qabsmax;
  if ((w.format === 'int8' || w.format === 'nf4') && !(w.absmax || (w.qabsmax && w.dq))) {
    throw new RangeError(`${label}: ${w.format} weight needs absmax (or qabsmax + dq)`);
  }
  const placeholder = await engine.placeholder();
  const scalesRef = w.qabsmax ?? w.absmax ?? placeholder;
  const bindings = resolveBindings(engine, label, [
    { name: 'a', ref: p.a, bytes: 4 * ((M - 1) * lda + K), shape: `(M, K) = (${M}, ${K})${lda !== K ? ` row stride ${lda}` : ''}` },
    { name: 'weight', ref: w.words, bytes: 4 * Math.ceil(numel / ELEMENTS_PER_WORD[w.format]), shape: `(${w.rows}, ${w.cols}) ${w.format}` },
    { name: 'scales', ref: scalesRef, bytes: scalesRef === placeholder ? 16 : dq ? Math.ceil(nblocks / 4) * 4 : 4 * nblocks, shape: `(${nblocks})` },
    { name: 'dq', ref: w.dq ?? placeholder, bytes: dq ? 4 * (257 + Math.ceil(nblocks / 256)) : 16, shape: 'double quant' },
    { name: 'bias', ref: p.bias ?? placeholder, bytes: p.bias ? 4 * N : 16, shape: `(N) = (${N})` },
    { name: 'out', ref: p.out, bytes: 4 * ((M - 1) * ldc + N), shape: `(M, N) = (${M}, ${N})${ldc !== N ? ` row stride ${ldc}` : ''}` },
  ]);
  const out = bindings[5];
  checkNoAlias(label, out, bindings.slice(0, 5));

  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'matmul_weight',
    code: shader,
    entryPoint: K % 4 === 0 && lda % 4 === 0 ? 'main_vec4' : 'main',
    constants: {
      FORMAT: FORMAT_ID[w.format], TRANS_W: p.transW, W_ALIGNED: w.cols % 4 === 0,
      DOUBLE_QUANT: dq, HAS_BIAS: !!p.bias,
    },
    layout: LAYOUT,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout,
    uniform: uniformBlock([['u', M], ['u', N], ['u', K], ['u', w.cols], ['f', p.accumulate ? 1 : 0], ['u', lda], ['u', ldc], ['u', 0]]),
    resources: bindings,
    workgroups: [Math.ceil(N / TILE), Math.ceil(M / TILE), 1],
  });
}
