/**
 * The KV cache of generation (shaders/kv_cache.wgsl) and the small "step" buffer that says where
 * the current step writes: [pos0, rows] (u32), written on the CPU once per step and read by every
 * layer's cache append and decode attention (one queue write per step instead of one per op).
 *   append   kc[pos0 + i] = k[i], vc[pos0 + i] = v[i]   for the valid rows i < rows of (Tq, W)
 */
import shader from '../../../shaders/kv_cache.wgsl?raw';
import type { Engine } from '../context';
import { BufferUsage } from '../flags';
import { layoutSpec } from '../pipelines';
import { checkDims, checkNoAlias, flatGrid, FLAT_WG, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';

const LAYOUT = layoutSpec(['uniform', 'read', 'read', 'read', 'rw', 'rw']);

/** Bytes of the step buffer: { pos0, rows, pad, pad } u32. */
export const DECODE_STEP_BYTES = 16;

export function allocDecodeStep(engine: Engine, label = 'decode step (pos0, rows)'): Promise<GPUBuffer> {
  return engine.pool.alloc({ size: DECODE_STEP_BYTES, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST, category: 'workspace', label });
}

/** Point the next submitted step at positions pos0 .. pos0 + rows - 1. */
export function writeDecodeStep(engine: Engine, step: GPUBuffer, pos0: number, rows: number): void {
  engine.gpu.device.queue.writeBuffer(step, 0, new Uint32Array([pos0, rows, 0, 0]));
}

export interface KvAppendArgs {
  /** (DECODE_STEP_BYTES) [pos0, rows] */
  step: BufferRef;
  /** (Tq, W) keys after RoPE */
  k: BufferRef;
  /** (Tq, W) */
  v: BufferRef;
  /** (maxLen, W) */
  kCache: BufferRef;
  /** (maxLen, W) */
  vCache: BufferRef;
  /** rows of k and v */
  Tq: number;
  /** KV * D */
  W: number;
  maxLen: number;
  label?: string;
}

export async function prepareKvAppend(engine: Engine, a: KvAppendArgs): Promise<PreparedOp> {
  const { Tq, W, maxLen } = a;
  const label = a.label ?? `kv append ${Tq}x${W} into ${maxLen}`;
  checkDims(label, { Tq, W, maxLen });
  const rows = `(Tq, W) = (${Tq}, ${W})`;
  const cache = `(maxLen, W) = (${maxLen}, ${W})`;
  const b = resolveBindings(engine, label, [
    { name: 'step', ref: a.step, bytes: DECODE_STEP_BYTES, shape: '(4) u32' },
    { name: 'k', ref: a.k, bytes: 4 * Tq * W, shape: rows },
    { name: 'v', ref: a.v, bytes: 4 * Tq * W, shape: rows },
    { name: 'kCache', ref: a.kCache, bytes: 4 * maxLen * W, shape: cache },
    { name: 'vCache', ref: a.vCache, bytes: 4 * maxLen * W, shape: cache },
  ]);
  checkNoAlias(label, b[3], [...b.slice(0, 3), b[4]]);
  checkNoAlias(label, b[4], b.slice(0, 3));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'kv_cache', code: shader, entryPoint: 'kv_append', layout: LAYOUT,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout,
    uniform: uniformBlock([['u', Tq], ['u', W], ['u', maxLen], ['u', 0]]),
    resources: b, workgroups: flatGrid(engine, Math.ceil((Tq * W) / FLAT_WG)),
  });
}
