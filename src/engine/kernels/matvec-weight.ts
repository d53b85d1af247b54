/**
 * One token through a frozen weight W (N, K) in any storage format (shaders/matvec_weight.wgsl):
 *   y (N) = alpha * W x (+ bias) (+ y when `accumulate`)        x (K)
 * The generation counterpart of prepareLinearForward: the tiled matmul computes 64 rows per tile,
 * which for one row is 64 times the work. Also serves LoRA's A (r, in) and B (out, r) as f32
 * weights viewed inside the flat LoRA buffer.
 */
import body from '../../../shaders/matvec_weight.wgsl?raw';
import weightDecode from '../../../shaders/lib/weight_decode.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec } from '../pipelines';
import { ELEMENTS_PER_WORD } from '../../reference/quant/packed';
import { checkDims, checkNoAlias, flatGrid, makeOp, resolveBindings, shiftRef, uniformBlock, type BufferRef, type PreparedOp } from './common';
import type { GpuWeight, ShardedWeight } from './weights';

const shader = `${weightDecode}\n${body}`;
const FORMAT_ID = { f32: 0, f16: 1, bf16: 2, int8: 3, nf4: 4 } as const;
const LAYOUT = layoutSpec(['uniform', 'read', 'read', 'read', 'read', 'read', 'rw']);
const LANE_CHOICES = [1, 2, 4, 8, 16, 32, 64];

/**
 * Threads per output row. On a GPU, 8 lanes read 8 consecutive quads of a row (128 bytes, coalesced).
 * A CPU implementation of WebGPU (SwiftShader, lavapipe, WARP) runs a workgroup's threads in turn
 * and pays for every barrier, so fewer lanes per row are about twice as fast there (measured).
 */
export function matvecLanes(engine: Engine): number {
  const i = engine.gpu.adapterInfo;
  return /swiftshader|llvmpipe|lavapipe|warp/i.test(`${i.architecture} ${i.device} ${i.description}`) ? 2 : 8;
}
/** Output rows per workgroup (ROWS in the WGSL). */


export interface MatvecWeightArgs {
  /** (N) */
  out: BufferRef;
  /** (K) */
  x: BufferRef;
  /** (N, K) */
  weight: GpuWeight;
  /** (N), optional */
  bias?: BufferRef;
  /** Scale of W x (default 1; the bias is not scaled). */
  alpha?: number;
  /** out += instead of out = */
  accumulate?: boolean;
  label?: string;
  /** Threads per output row (1, 2, 4, 8, 16, 32 or 64; default matvecLanes). */
  lanes?: number;
}

/** y (N) = alpha W x (+ bias) (+ y) with W in row shards: one op per shard, each writing its rows of y. */
export async function prepareShardedMatvecWeight(engine: Engine, a: Omit<MatvecWeightArgs, 'weight'> & { weight: ShardedWeight }): Promise<PreparedOp[]> {
  const label = a.label ?? `matvec ${a.weight.format} ${a.weight.rows}x${a.weight.cols}`;
  const one = a.weight.shards.length === 1;
  const ops: PreparedOp[] = [];
  for (const { r0, weight } of a.weight.shards) {
    ops.push(await prepareMatvecWeight(engine, {
      ...a, weight, out: shiftRef(a.out, 4 * r0), bias: a.bias && shiftRef(a.bias, 4 * r0), label: one ? label : `${label} [${r0}:${r0 + weight.rows}]`,
    }));
  }
  return ops;
}

export async function prepareMatvecWeight(engine: Engine, a: MatvecWeightArgs): Promise<PreparedOp> {
  const { rows: N, cols: K, format } = a.weight;
  const w = a.weight;
  const label = a.label ?? `matvec ${format} ${N}x${K}`;
  const lanes = a.lanes ?? matvecLanes(engine);
  if (!LANE_CHOICES.includes(lanes)) throw new RangeError(`${label}: lanes must be one of ${LANE_CHOICES.join(', ')}, got ${lanes}`);
  checkDims(label, { N, K });
  const numel = N * K;
  const nblocks = Math.ceil(numel / 64);
  const dq = !!w.qabsmax;
  if ((format === 'int8' || format === 'nf4') && !(w.absmax || (w.qabsmax && w.dq))) {
    throw new RangeError(`${label}: ${format} weight needs absmax (or qabsmax + dq)`);
  }
  const placeholder = await engine.placeholder();
  const scalesRef = w.qabsmax ?? w.absmax ?? placeholder;
  const bindings = resolveBindings(engine, label, [
    { name: 'x', ref: a.x, bytes: 4 * K, shape: `(K) = (${K})` },
    { name: 'weight', ref: w.words, bytes: 4 * Math.ceil(numel / ELEMENTS_PER_WORD[format]), shape: `(${N}, ${K}) ${format}` },
    { name: 'scales', ref: scalesRef, bytes: scalesRef === placeholder ? 16 : dq ? Math.ceil(nblocks / 4) * 4 : 4 * nblocks, shape: `(${nblocks})` },
    { name: 'dq', ref: w.dq ?? placeholder, bytes: dq ? 4 * (257 + Math.ceil(nblocks / 256)) : 16, shape: 'double quant' },
    { name: 'bias', ref: a.bias ?? placeholder, bytes: a.bias ? 4 * N : 16, shape: `(N) = (${N})` },
    { name: 'out', ref: a.out, bytes: 4 * N, shape: `(N) = (${N})` },
  ]);
  checkNoAlias(label, bindings[5], bindings.slice(0, 5));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'matvec_weight',
    code: shader,
    entryPoint: K % 4 === 0 ? 'main_vec4' : 'main',
    constants: { FORMAT: FORMAT_ID[format], DOUBLE_QUANT: dq, HAS_BIAS: !!a.bias, LANES: lanes },
    layout: LAYOUT,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout,
    uniform: uniformBlock([['u', N], ['u', K], ['f', a.alpha ?? 1], ['f', a.accumulate ? 1 : 0]]),
    resources: bindings,
    workgroups: flatGrid(engine, Math.ceil(N / (64 / lanes))),
  });
}
