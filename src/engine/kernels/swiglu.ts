/**
 * SwiGLU gate of the Llama MLP (shaders/swiglu.wgsl), as src/reference/ops/swiglu.ts:
 *   forward   out (N, F) = silu(gate) * up
 *   backward  dup (N, F) (+)= dout g s,   dgate (N, F) (+)= dout up s (1 + g (1 - s)),  s = sigmoid(g)
 * The backward ACCUMULATES by default (the reference's convention); gate and up are usually the
 * fresh outputs of the MLP projections, so the graph normally passes `accumulate: false` and skips
 * zeroing dgate and dup.
 */
import shader from '../../../shaders/swiglu.wgsl?raw';
import type { Engine } from '../context';
import { checkDims, checkNoAlias, flatGrid, FLAT_WG, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';
import { layoutSpec } from '../pipelines';

const FORWARD = layoutSpec(['uniform', 'rw', 'read', 'read']);
const BACKWARD = layoutSpec(['uniform', 'rw', 'rw', 'read', 'read', 'read']);

export interface SwigluForwardArgs {
  /** (N, F) */
  out: BufferRef;
  /** (N, F) */
  gate: BufferRef;
  /** (N, F) */
  up: BufferRef;
  /** rows (tokens) */
  N: number;
  /** intermediate size */
  F: number;
  label?: string;
}

export interface SwigluBackwardArgs {
  /** (N, F) */
  dgate: BufferRef;
  /** (N, F) */
  dup: BufferRef;
  /** (N, F) */
  dout: BufferRef;
  /** (N, F) */
  gate: BufferRef;
  /** (N, F) */
  up: BufferRef;
  N: number;
  F: number;
  /** dgate, dup += (default, the reference's convention) or = */
  accumulate?: boolean;
  label?: string;
}

export async function prepareSwigluForward(engine: Engine, a: SwigluForwardArgs): Promise<PreparedOp> {
  const { N, F } = a;
  const label = a.label ?? `swiglu fwd ${N}x${F}`;
  checkDims(label, { N, F });
  const shape = `(N, F) = (${N}, ${F})`;
  const b = resolveBindings(engine, label, [
    { name: 'out', ref: a.out, bytes: 4 * N * F, shape },
    { name: 'gate', ref: a.gate, bytes: 4 * N * F, shape },
    { name: 'up', ref: a.up, bytes: 4 * N * F, shape },
  ]);
  checkNoAlias(label, b[0], b.slice(1));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'swiglu', code: shader, entryPoint: 'swiglu_forward', layout: FORWARD,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: uniformBlock([['u', N * F]]),
    resources: b, workgroups: flatGrid(engine, Math.ceil((N * F) / FLAT_WG)),
  });
}

export async function prepareSwigluBackward(engine: Engine, a: SwigluBackwardArgs): Promise<PreparedOp> {
  const { N, F } = a;
  const label = a.label ?? `swiglu bwd ${N}x${F}`;
  checkDims(label, { N, F });
  const shape = `(N, F) = (${N}, ${F})`;
  const b = resolveBindings(engine, label, [
    { name: 'dgate', ref: a.dgate, bytes: 4 * N * F, shape },
    { name: 'dup', ref: a.dup, bytes: 4 * N * F, shape },
    { name: 'dout', ref: a.dout, bytes: 4 * N * F, shape },
    { name: 'gate', ref: a.gate, bytes: 4 * N * F, shape },
    { name: 'up', ref: a.up, bytes: 4 * N * F, shape },
  ]);
  checkNoAlias(label, b[0], b.slice(2));
  checkNoAlias(label, b[1], b.slice(2));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'swiglu', code: shader, entryPoint: 'swiglu_backward',
    constants: { ACCUMULATE: a.accumulate ?? true }, layout: BACKWARD,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: uniformBlock([['u', N * F]]),
    resources: b, workgroups: flatGrid(engine, Math.ceil((N * F) / FLAT_WG)),
  });
}
