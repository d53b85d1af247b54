/**
 * RMSNorm as Hugging Face Llama (shaders/rmsnorm.wgsl), as src/reference/ops/rmsnorm.ts:
 *   forward          out (N, C) = inp * rstd * g,  rstd (N) = rsqrt(mean(inp^2) + eps)
 *   backward         dinp (N, C) (+)= r g dy - x r^3 / C * sum_k dy_k g_k x_k
 * with g = weight, or 1 + weight with `plusOne` (Gemma; the weight gradient does not depend on it).
 *   backward-weight  dweight (C) (+)= sum over rows of dy * x * r   (optional: the base is frozen)
 * Row kernels run one workgroup per row (`rmsnormRowWorkgroup` invocations, striding over it) with a
 * workgroup reduction, so any C works (8192 and beyond); rows beyond 65535 go on a 2D grid. Per-head
 * q/k norm (Qwen3, Gemma 3) is this kernel on N * heads rows of C = head_dim. The reduction uses subgroupAdd where the device has
 * the `subgroups` feature and a tree in workgroup memory otherwise (`rmsnormShader`).
 *
 * The backward ACCUMULATES into dinp by default: the residual stream's gradient arrives from two
 * places (the skip connection and the normalized branch), so the caller lets the skip gradient sit in
 * dinp and adds the branch's. Pass `accumulate: false` to overwrite instead.
 */
import rmsnormWgsl from '../../../shaders/rmsnorm.wgsl?raw';
import treeReduceWgsl from '../../../shaders/lib/row_reduce.wgsl?raw';
import subgroupReduceWgsl from '../../../shaders/lib/row_reduce_subgroup.wgsl?raw';
import type { Engine } from '../context';
import { isCpuAdapter } from '../device';
import { checkDims, checkNoAlias, flatGrid, FLAT_WG, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';
import { layoutSpec } from '../pipelines';

const FORWARD = layoutSpec(['uniform', 'rw', 'rw', 'read', 'read']);
const BACKWARD = layoutSpec(['uniform', 'rw', 'read', 'read', 'read', 'read']);
const BACKWARD_WEIGHT = layoutSpec(['uniform', 'rw', 'read', 'read', 'read']);

export interface RmsnormForwardArgs {
  /** (N, C) */
  out: BufferRef;
  /** (N), written for the backward */
  rstd: BufferRef;
  /** (N, C) */
  inp: BufferRef;
  /** (C) */
  weight: BufferRef;
  N: number;
  C: number;
  eps: number;
  /** The gain is 1 + weight instead of weight (Gemma's norms); default false */
  plusOne?: boolean;
  label?: string;
}

export interface RmsnormBackwardArgs {
  /** (N, C) */
  dinp: BufferRef;
  /** (N, C) */
  dout: BufferRef;
  /** (N, C), the forward's input */
  inp: BufferRef;
  /** (C) */
  weight: BufferRef;
  /** (N), from the forward */
  rstd: BufferRef;
  N: number;
  C: number;
  /** dinp += (default, the reference's convention) or dinp = */
  accumulate?: boolean;
  /** As in the forward: the gain is 1 + weight; default false */
  plusOne?: boolean;
  label?: string;
}

export interface RmsnormBackwardWeightArgs {
  /** (C) */
  dweight: BufferRef;
  /** (N, C) */
  dout: BufferRef;
  /** (N, C) */
  inp: BufferRef;
  /** (N) */
  rstd: BufferRef;
  N: number;
  C: number;
  /** dweight += (default) or dweight = */
  accumulate?: boolean;
  label?: string;
}

/**
 * Invocations per row, a power of two. On a GPU: the next power of two >= C, 32 to 256 (a
 * 256-wide tree over a short row costs 8 barrier rounds for nothing). On a CPU adapter: at most 8,
 * since there every invocation is a fiber and every barrier switches them all; measured on
 * SwiftShader at N = 512 rows (fwd + bwd): C = 256 9.7 ms with 8 against 139 ms with 256, C = 2048
 * 60 ms against 186 ms.
 */
export function rmsnormRowWorkgroup(engine: Engine, C: number): number {
  const pow2 = 2 ** Math.ceil(Math.log2(Math.max(1, C)));
  return isCpuAdapter(engine.gpu.adapterInfo) ? Math.min(8, pow2) : Math.min(256, Math.max(32, pow2));
}

/** The module for this device: the row sum by subgroups where the feature is on, else the tree. */
export function rmsnormShader(engine: Engine): string {
  return (engine.gpu.features.subgroups ? subgroupReduceWgsl : treeReduceWgsl) + '\n' + rmsnormWgsl;
}

const rows = (N: number, C: number) => `(N, C) = (${N}, ${C})`;

export async function prepareRmsnormForward(engine: Engine, a: RmsnormForwardArgs): Promise<PreparedOp> {
  const { N, C } = a;
  const label = a.label ?? `rmsnorm fwd ${N}x${C}`;
  checkDims(label, { N, C });
  if (!(a.eps >= 0)) throw new RangeError(`${label}: eps must be >= 0, got ${a.eps}`);
  const b = resolveBindings(engine, label, [
    { name: 'out', ref: a.out, bytes: 4 * N * C, shape: rows(N, C) },
    { name: 'rstd', ref: a.rstd, bytes: 4 * N, shape: `(N) = (${N})` },
    { name: 'inp', ref: a.inp, bytes: 4 * N * C, shape: rows(N, C) },
    { name: 'weight', ref: a.weight, bytes: 4 * C, shape: `(C) = (${C})` },
  ]);
  checkNoAlias(label, b[0], b.slice(2));
  checkNoAlias(label, b[1], b.slice(2));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'rmsnorm', code: rmsnormShader(engine), entryPoint: 'rmsnorm_forward', layout: FORWARD,
    constants: { WG: rmsnormRowWorkgroup(engine, C), PLUS_ONE: a.plusOne ?? false },
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout,
    uniform: uniformBlock([['u', N], ['u', C], ['f', a.eps], ['u', 0]]),
    resources: b, workgroups: flatGrid(engine, N),
  });
}

export async function prepareRmsnormBackward(engine: Engine, a: RmsnormBackwardArgs): Promise<PreparedOp> {
  const { N, C } = a;
  const label = a.label ?? `rmsnorm bwd ${N}x${C}`;
  checkDims(label, { N, C });
  const b = resolveBindings(engine, label, [
    { name: 'dinp', ref: a.dinp, bytes: 4 * N * C, shape: rows(N, C) },
    { name: 'dout', ref: a.dout, bytes: 4 * N * C, shape: rows(N, C) },
    { name: 'inp', ref: a.inp, bytes: 4 * N * C, shape: rows(N, C) },
    { name: 'weight', ref: a.weight, bytes: 4 * C, shape: `(C) = (${C})` },
    { name: 'rstd', ref: a.rstd, bytes: 4 * N, shape: `(N) = (${N})` },
  ]);
  checkNoAlias(label, b[0], b.slice(1));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'rmsnorm', code: rmsnormShader(engine), entryPoint: 'rmsnorm_backward',
    constants: { ACCUMULATE: a.accumulate ?? true, WG: rmsnormRowWorkgroup(engine, C), PLUS_ONE: a.plusOne ?? false }, layout: BACKWARD,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout,
    uniform: uniformBlock([['u', N], ['u', C], ['f', 0], ['u', 0]]),
    resources: b, workgroups: flatGrid(engine, N),
  });
}

/** The weight gradient, one invocation per column looping over the rows (deterministic, no atomics). */
export async function prepareRmsnormBackwardWeight(engine: Engine, a: RmsnormBackwardWeightArgs): Promise<PreparedOp> {
  const { N, C } = a;
  const label = a.label ?? `rmsnorm bwd-weight ${N}x${C}`;
  checkDims(label, { N, C });
  const b = resolveBindings(engine, label, [
    { name: 'dweight', ref: a.dweight, bytes: 4 * C, shape: `(C) = (${C})` },
    { name: 'dout', ref: a.dout, bytes: 4 * N * C, shape: rows(N, C) },
    { name: 'inp', ref: a.inp, bytes: 4 * N * C, shape: rows(N, C) },
    { name: 'rstd', ref: a.rstd, bytes: 4 * N, shape: `(N) = (${N})` },
  ]);
  checkNoAlias(label, b[0], b.slice(1));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'rmsnorm', code: rmsnormShader(engine), entryPoint: 'rmsnorm_backward_weight',
    constants: { ACCUMULATE: a.accumulate ?? true }, layout: BACKWARD_WEIGHT,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout,
    uniform: uniformBlock([['u', N], ['u', C], ['f', 0], ['u', 0]]),
    resources: b, workgroups: flatGrid(engine, Math.ceil(C / FLAT_WG)),
  });
}
