/**
 * Global gradient norm, clip coefficient and non-finite flag, all on the GPU (shaders/grad_norm.wgsl):
 *   pass 1: G workgroups write partial sums of (gradScale * g)^2 and NaN/Inf flags into a workspace
 *   pass 2: one workgroup adds the G partials in a fixed order and writes the stats buffer
 * No float atomics, so the result is bitwise reproducible run to run. The graph lays every LoRA
 * gradient in ONE contiguous buffer, so one reduce covers them all.
 *
 * Stats buffer (8 x 32-bit words, `GRAD_STATS_BYTES`), read by the optimizer kernel and read back by
 * the trainer once per logging interval (`decodeGradStats`):
 *   [0] f32 sumsq  [1] f32 norm  [2] f32 clipCoef = min(1, maxNorm / (norm + 1e-6)) (torch's
 *   clip_grad_norm_), 1 without clipping  [3] u32 nonFinite (this run)  [4] u32 nonFiniteSteps
 *   (+= [3] every run, never reset by the kernel: the trainer zeroes it with writeBuffer)
 */
import shader from '../../../shaders/grad_norm.wgsl?raw';
import type { Engine } from '../context';
import { BufferUsage } from '../flags';
import { layoutSpec } from '../pipelines';
import {
  checkDims, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp,
} from './common';

export const REDUCE_WG = 256;
/** Most pass-1 workgroups (partials); each thread strides over the rest. */
export const MAX_PARTIALS = 256;
/** Elements a pass-1 thread handles at least before another workgroup is added. */
const ITEMS_PER_THREAD = 64;
export const GRAD_STATS_WORDS = 8;
export const GRAD_STATS_BYTES = 4 * GRAD_STATS_WORDS;
const LAYOUT = layoutSpec(['uniform', 'read', 'rw', 'read', 'rw']);

/** Number of pass-1 workgroups for n elements (deterministic in n). */
export function gradNormPartials(n: number): number {
  return Math.min(MAX_PARTIALS, Math.max(1, Math.ceil(n / (REDUCE_WG * ITEMS_PER_THREAD))));
}

/** Bytes of the workspace the prepared op allocates (for the memory plan). */
export function gradNormWorkspaceBytes(n: number): number {
  return 8 * gradNormPartials(n);
}

/** A zeroed stats buffer (8 words) on the ledger as workspace; storage, copy source and destination. */
export function allocGradStats(engine: Engine, label = 'grad-stats'): Promise<GPUBuffer> {
  return engine.pool.alloc({
    size: GRAD_STATS_BYTES, category: 'workspace', label,
    usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
  });
}

export interface GradStats {
  sumsq: number;
  norm: number;
  clipCoef: number;
  nonFinite: boolean;
  nonFiniteSteps: number;
}

/** Decode the bytes of a stats buffer (at least GRAD_STATS_BYTES). */
export function decodeGradStats(bytes: ArrayBuffer): GradStats {
  const f = new Float32Array(bytes, 0, 3);
  const u = new Uint32Array(bytes, 12, 2);
  return { sumsq: f[0], norm: f[1], clipCoef: f[2], nonFinite: u[0] !== 0, nonFiniteSteps: u[1] };
}

export interface GradNormArgs {
  /** (n): every gradient, laid out contiguously */
  grads: BufferRef;
  n: number;
  /** (8) words, see the header; written (and [4] accumulated) */
  stats: BufferRef;
  /** Clip to this global norm; <= 0, Infinity or undefined: no clipping (coefficient 1). */
  maxNorm?: number;
  /** Gradients count as gradScale * g (1 / accumulation steps); the optimizer must get the same. */
  gradScale?: number;
  /** Loss values (f32) to check for NaN/Inf: `count` elements from element `offset` of `buffer`. */
  loss?: { buffer: GPUBuffer; offset?: number; count: number };
  label?: string;
}

export interface PreparedGradNorm extends PreparedOp {
  /** Change the clipping threshold (a queue write, for the next submit). */
  setMaxNorm(maxNorm: number | undefined): void;
}

export async function prepareGradNorm(engine: Engine, args: GradNormArgs): Promise<PreparedGradNorm> {
  const { n } = args;
  const label = args.label ?? `grad-norm n=${n}`;
  checkDims(label, { n });
  const gradScale = args.gradScale ?? 1;
  if (!Number.isFinite(gradScale)) throw new RangeError(`${label}: gradScale must be finite, got ${gradScale}`);
  const G = gradNormPartials(n);
  const lossCount = args.loss?.count ?? 0;
  const lossOffset = args.loss?.offset ?? 0;
  if (!Number.isSafeInteger(lossCount) || lossCount < 0 || !Number.isSafeInteger(lossOffset) || lossOffset < 0) {
    throw new RangeError(`${label}: bad loss range (offset ${lossOffset}, count ${lossCount})`);
  }
  const lossBuffer = args.loss && lossCount > 0 ? args.loss.buffer : await engine.placeholder();
  const workspace = await engine.pool.alloc({
    size: gradNormWorkspaceBytes(n), usage: BufferUsage.STORAGE, category: 'workspace', label: `${label}:partials`,
  });
  try {
    const [grads, ws, loss, stats] = resolveBindings(engine, label, [
      { name: 'grads', ref: args.grads, bytes: 4 * n, shape: `(n) = (${n})` },
      { name: 'workspace', ref: workspace, bytes: 8 * G, shape: `(2 G) = (${2 * G})` },
      { name: 'loss', ref: lossBuffer, bytes: lossCount > 0 ? 4 * (lossOffset + lossCount) : 16, shape: `(${lossOffset} + ${lossCount})` },
      { name: 'stats', ref: args.stats, bytes: GRAD_STATS_BYTES, shape: `(${GRAD_STATS_WORDS})` },
    ]);
    if (stats.buffer === grads.buffer || stats.buffer === loss.buffer) {
      throw new RangeError(`${label}: the stats buffer '${stats.buffer.label}' is also an input`);
    }
    const pipe = (entryPoint: string) => engine.pipelines.compute({ label: 'reduce', code: shader, entryPoint, layout: LAYOUT });
    const [partial, final] = await Promise.all([pipe('sumsq_partial'), pipe('sumsq_final')]);
    const params = (maxNorm: number | undefined) => {
      const clip = maxNorm !== undefined && maxNorm > 0 && Number.isFinite(maxNorm);
      return uniformBlock([
        ['u', n], ['u', G], ['u', clip ? 1 : 0], ['f', clip ? maxNorm : 0],
        ['f', gradScale], ['u', lossOffset], ['u', lossCount], ['u', 0],
      ]);
    };
    const resources = [grads, ws, loss, stats];
    const uniform = params(args.maxNorm);
    const op1 = await makeOp(engine, { label: `${label}:partial`, pipeline: partial.pipeline, layout: partial.bindGroupLayout, uniform, resources, workgroups: [G, 1, 1] });
    const op2 = await makeOp(engine, { label: `${label}:final`, pipeline: final.pipeline, layout: final.bindGroupLayout, uniform, resources, workgroups: [1, 1, 1] })
      .catch((e: unknown) => { op1.destroy(); throw e; });
    return {
      label,
      workgroups: op1.workgroups,
      encode(pass) {
        op1.encode(pass);
        op2.encode(pass);
      },
      writeUniform(data) {
        op1.writeUniform(data);
        op2.writeUniform(data);
      },
      setMaxNorm(maxNorm) {
        const u = params(maxNorm);
        op1.writeUniform(u);
        op2.writeUniform(u);
      },
      destroy() {
        op1.destroy();
        op2.destroy();
        engine.pool.destroy(workspace);
      },
    };
  } catch (e) {
    engine.pool.destroy(workspace);
    throw e;
  }
}
