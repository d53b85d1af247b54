/**
 * Gated MLP activation (shaders/swiglu.wgsl): SwiGLU as src/reference/ops/swiglu.ts (Llama, Qwen),
 * or with `activation: 'gelu_tanh'` GeGLU as src/reference/ops/geglu.ts (Gemma):
 *   forward   out (N, F) = act(gate) * up
 *   backward  dup (N, F) (+)= dout act(g),   dgate (N, F) (+)= dout up act'(g)
 *   silu: act = g s, act' = s (1 + g (1 - s)), s = sigmoid(g);
 *   gelu_tanh: act = 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3))) (torch's approximate='tanh')
 * The backward ACCUMULATES by default (the reference's convention); gate and up are usually the
 * fresh outputs of the MLP projections, so the graph normally passes `accumulate: false` and skips
 * zeroing dgate and dup.
 */
import shader from '../../../shaders/swiglu.wgsl?raw';
import type { Engine } from '../context';
import { checkDims, checkNoAlias, flatGrid, FLAT_WG, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';
import { layoutSpec } from '../pipelines';

/** The gate's activation: silu (SwiGLU) or the tanh approximation of GELU (GeGLU). */
export type GatedActivation = 'silu' | 'gelu_tanh';
const ACTIVATION: Record<GatedActivation, number> = { silu: 0, gelu_tanh: 1 };

function activationConstant(label: string, act: GatedActivation | undefined): number {
  const id = ACTIVATION[act ?? 'silu'];
  if (id === undefined) throw new RangeError(`${label}: unknown activation '${act}' (silu or gelu_tanh)`);
  return id;
}

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
  /** default 'silu' */
  activation?: GatedActivation;
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
  /** as in the forward; default 'silu' */
  activation?: GatedActivation;
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
    constants: { ACTIVATION: activationConstant(label, a.activation) },
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
    constants: { ACCUMULATE: a.accumulate ?? true, ACTIVATION: activationConstant(label, a.activation) }, layout: BACKWARD,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: uniformBlock([['u', N * F]]),
    resources: b, workgroups: flatGrid(engine, Math.ceil((N * F) / FLAT_WG)),
  });
}
