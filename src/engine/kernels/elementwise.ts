/**
 * Elementwise vector ops on flat f32 arrays of n elements (shaders/elementwise.wgsl):
 *   prepareAdd         out = a + b         residual forward, out-of-place
 *   prepareAccumulate  y += alpha * x      residual forward in place (alpha 1), gradient
 *                                          accumulation, and residualBackward (y = da or db)
 *   prepareScale       y *= alpha
 *   prepareCopy        out = inp
 *   prepareFill        y = value          (zeroing a gradient before an accumulating backward)
 *   prepareSoftcap     y = cap tanh(y / cap)            in place, as softcapForward (Gemma 2's
 *                                                       final logits before sampling)
 *   prepareSoftcapBackward  dx += dout (1 - (out / cap)^2)   as softcapBackward
 * Any shape works: pass n = the element count, e.g. B * T * C for the residual stream.
 */
import body from '../../../shaders/elementwise.wgsl?raw';
import tanhLib from '../../../shaders/lib/tanh.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec, type LayoutSpec } from '../pipelines';
import {
  checkDims, checkNoAlias, flatGrid, FLAT_WG, makeOp, resolveBindings, uniformBlock, type BindingSpec, type BufferRef, type PreparedOp,
} from './common';

/** The module: the overflow-safe tanh (for the softcap), then the kernels. */
const shader = `${tanhLib}\n${body}`;

type Entry = 'ew_add' | 'ew_axpy' | 'ew_scale' | 'ew_copy' | 'ew_fill' | 'ew_softcap' | 'ew_softcap_bwd';
const LAYOUTS: Record<Entry, LayoutSpec> = {
  ew_softcap: layoutSpec(['uniform', 'rw']),
  ew_softcap_bwd: layoutSpec(['uniform', 'rw', 'read', 'read']),
  ew_add: layoutSpec(['uniform', 'rw', 'read', 'read']),
  ew_axpy: layoutSpec(['uniform', 'rw', 'read']),
  ew_copy: layoutSpec(['uniform', 'rw', 'read']),
  ew_scale: layoutSpec(['uniform', 'rw']),
  ew_fill: layoutSpec(['uniform', 'rw']),
};

/** An op whose scalar (alpha, or the fill value) can be changed between steps. */
export type ScalarOp = PreparedOp & { setScalar(value: number): void };

async function prepareElementwise(
  engine: Engine, entry: Entry, label: string, n: number, alpha: number, specs: BindingSpec[],
): Promise<ScalarOp> {
  checkDims(label, { n });
  const bindings = resolveBindings(engine, label, specs);
  checkNoAlias(label, bindings[0], bindings.slice(1));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'elementwise', code: shader, entryPoint: entry, layout: LAYOUTS[entry],
  });
  const params = (a: number) => uniformBlock([['u', n], ['f', a]]);
  const op = await makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: params(alpha),
    resources: bindings, workgroups: flatGrid(engine, Math.ceil(n / FLAT_WG)),
  });
  return { ...op, setScalar: (a: number) => op.writeUniform(params(a)) };
}

const vec = (name: string, ref: BufferRef, n: number): BindingSpec => ({ name, ref, bytes: 4 * n, shape: `(n) = (${n})` });

export interface AddArgs {
  /** (n), must not share a buffer with a or b */
  out: BufferRef;
  /** (n) */
  a: BufferRef;
  /** (n) */
  b: BufferRef;
  n: number;
  label?: string;
}

/** out = a + b. For out = a + b with out === a, use prepareAccumulate(y = a, x = b). */
export function prepareAdd(engine: Engine, a: AddArgs): Promise<PreparedOp> {
  return prepareElementwise(engine, 'ew_add', a.label ?? `add ${a.n}`, a.n, 0,
    [vec('out', a.out, a.n), vec('a', a.a, a.n), vec('b', a.b, a.n)]);
}

export interface AccumulateArgs {
  /** (n) in-out, must not share a buffer with x */
  y: BufferRef;
  /** (n) */
  x: BufferRef;
  n: number;
  /** default 1 */
  alpha?: number;
  label?: string;
}

/** y += alpha * x (`setScalar` changes alpha). */
export function prepareAccumulate(engine: Engine, a: AccumulateArgs): Promise<ScalarOp> {
  return prepareElementwise(engine, 'ew_axpy', a.label ?? `accumulate ${a.n}`, a.n, a.alpha ?? 1,
    [vec('y', a.y, a.n), vec('x', a.x, a.n)]);
}

export interface ScaleArgs {
  /** (n) in-out */
  y: BufferRef;
  n: number;
  alpha: number;
  label?: string;
}

/** y *= alpha (`setScalar` changes alpha). */
export function prepareScale(engine: Engine, a: ScaleArgs): Promise<ScalarOp> {
  return prepareElementwise(engine, 'ew_scale', a.label ?? `scale ${a.n}`, a.n, a.alpha, [vec('y', a.y, a.n)]);
}

export interface CopyArgs {
  /** (n), must not share a buffer with inp (use copyBufferToBuffer for that) */
  out: BufferRef;
  /** (n) */
  inp: BufferRef;
  n: number;
  label?: string;
}

/** out = inp, inside a compute pass (a buffer copy would need its own encoder command). */
export function prepareCopy(engine: Engine, a: CopyArgs): Promise<PreparedOp> {
  return prepareElementwise(engine, 'ew_copy', a.label ?? `copy ${a.n}`, a.n, 0,
    [vec('out', a.out, a.n), vec('inp', a.inp, a.n)]);
}

export interface FillArgs {
  /** (n) */
  y: BufferRef;
  n: number;
  /** default 0 */
  value?: number;
  label?: string;
}

/** y = value (`setScalar` changes the value). */
export function prepareFill(engine: Engine, a: FillArgs): Promise<ScalarOp> {
  return prepareElementwise(engine, 'ew_fill', a.label ?? `fill ${a.n}`, a.n, a.value ?? 0, [vec('y', a.y, a.n)]);
}

export interface SoftcapArgs {
  /** (n) in-out: raw values in, capped values out */
  y: BufferRef;
  n: number;
  /** the cap, > 0 */
  cap: number;
  label?: string;
}

const checkCap = (label: string, cap: number) => {
  if (!(Number.isFinite(cap) && cap > 0)) throw new RangeError(`${label}: cap must be a positive number, got ${cap}`);
};

/** y = cap tanh(y / cap) in place (`setScalar` changes the cap). */
export async function prepareSoftcap(engine: Engine, a: SoftcapArgs): Promise<ScalarOp> {
  const label = a.label ?? `softcap ${a.n}`;
  checkCap(label, a.cap);
  return prepareElementwise(engine, 'ew_softcap', label, a.n, a.cap, [vec('y', a.y, a.n)]);
}

export interface SoftcapBackwardArgs {
  /** (n) in-out: dx += dout (1 - (out / cap)^2); must not share a buffer with dout or out */
  dx: BufferRef;
  /** (n) */
  dout: BufferRef;
  /** (n) the capped values of the forward */
  out: BufferRef;
  n: number;
  cap: number;
  label?: string;
}

/** dx += dout (1 - (out / cap)^2), accumulating like the reference. */
export async function prepareSoftcapBackward(engine: Engine, a: SoftcapBackwardArgs): Promise<ScalarOp> {
  const label = a.label ?? `softcap bwd ${a.n}`;
  checkCap(label, a.cap);
  return prepareElementwise(engine, 'ew_softcap_bwd', label, a.n, a.cap,
    [vec('dx', a.dx, a.n), vec('dout', a.dout, a.n), vec('out', a.out, a.n)]);
}
