/**
 * Global gradient norm, clip coefficient and non-finite flag, all on the GPU (shaders/grad_norm.wgsl):
 *   pass 1: G workgroups write partial sums of (gradScale * g)^2 and NaN/Inf flags into a workspace
 *   pass 2: one workgroup adds the G partials in a fixed order and writes the stats buffer
 * No float atomics, so the result is bitwise reproducible run to run. The graph lays every LoRA
 * gradient in one contiguous vector, so one reduce covers them all; a vector too large for one
 * binding comes in pieces (`pieces`): pass 1 runs once per piece into its own range of partials,
 * pass 2 once over all of them.
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
export function gradNormWorkspaceBytes(n: number | readonly number[]): number {
  return 8 * (typeof n === 'number' ? [n] : n).reduce((s, k) => s + gradNormPartials(k), 0);
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

/** One piece of the gradient vector: (n) f32. */
export interface GradPiece {
  grads: BufferRef;
  n: number;
}

export type GradNormArgs = GradNormOptions & (
  /** (n): every gradient, laid out contiguously */
  | GradPiece
  /** The gradient vector as the concatenation of these pieces (each its own binding). */
  | { pieces: readonly GradPiece[] }
);

export interface GradNormOptions {
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
  const pieces = 'pieces' in args ? args.pieces : [{ grads: args.grads, n: args.n }];
  const n = pieces.reduce((s, p) => s + p.n, 0);
  const label = args.label ?? `grad-norm n=${n}`;
  if (!pieces.length) throw new RangeError(`${label}: no gradient pieces`);
  pieces.forEach((p, i) => checkDims(label, pieces.length > 1 ? { [`piece ${i} n`]: p.n } : { n: p.n }));
  const gradScale = args.gradScale ?? 1;
  if (!Number.isFinite(gradScale)) throw new RangeError(`${label}: gradScale must be finite, got ${gradScale}`);
  // Each piece its own partials, at `base` in the workspace; G of them in all.
  const groups = pieces.map((p) => gradNormPartials(p.n));
  const bases = groups.map((_, i) => groups.slice(0, i).reduce((s, g) => s + g, 0));
  const G = bases[bases.length - 1] + groups[groups.length - 1];
  const lossCount = args.loss?.count ?? 0;
  const lossOffset = args.loss?.offset ?? 0;
  if (!Number.isSafeInteger(lossCount) || lossCount < 0 || !Number.isSafeInteger(lossOffset) || lossOffset < 0) {
    throw new RangeError(`${label}: bad loss range (offset ${lossOffset}, count ${lossCount})`);
  }
  const lossBuffer = args.loss && lossCount > 0 ? args.loss.buffer : await engine.placeholder();
  const workspace = await engine.pool.alloc({
    size: 8 * G, usage: BufferUsage.STORAGE, category: 'workspace', label: `${label}:partials`,
  });
  const ops: PreparedOp[] = [];
  try {
    const bind = (p: GradPiece, i: number) => resolveBindings(engine, pieces.length > 1 ? `${label} piece ${i}` : label, [
      { name: 'grads', ref: p.grads, bytes: 4 * p.n, shape: `(n) = (${p.n})` },
      { name: 'workspace', ref: workspace, bytes: 8 * G, shape: `(2 G) = (${2 * G})` },
      { name: 'loss', ref: lossBuffer, bytes: lossCount > 0 ? 4 * (lossOffset + lossCount) : 16, shape: `(${lossOffset} + ${lossCount})` },
      { name: 'stats', ref: args.stats, bytes: GRAD_STATS_BYTES, shape: `(${GRAD_STATS_WORDS})` },
    ]);
    const bound = pieces.map(bind);
    for (const [grads, , loss, stats] of bound) {
      if (stats.buffer === grads.buffer || stats.buffer === loss.buffer) {
        throw new RangeError(`${label}: the stats buffer '${stats.buffer.label}' is also an input`);
      }
    }
    const pipe = (entryPoint: string) => engine.pipelines.compute({ label: 'reduce', code: shader, entryPoint, layout: LAYOUT });
    const [partial, final] = await Promise.all([pipe('sumsq_partial'), pipe('sumsq_final')]);
    // Piece i's uniform (pass 1); pass 2 takes piece 0's, whose `total` is G like every piece's.
    const params = (maxNorm: number | undefined, i: number) => {
      const clip = maxNorm !== undefined && maxNorm > 0 && Number.isFinite(maxNorm);
      return uniformBlock([
        ['u', pieces[i].n], ['u', groups[i]], ['u', clip ? 1 : 0], ['f', clip ? maxNorm : 0],
        ['f', gradScale], ['u', lossOffset], ['u', lossCount], ['u', bases[i]],
        ['u', G], ['u', 0], ['u', 0], ['u', 0],
      ]);
    };
    const one = pieces.length === 1;
    for (const [i, resources] of bound.entries()) {
      ops.push(await makeOp(engine, {
        label: one ? `${label}:partial` : `${label}:partial ${i}`, pipeline: partial.pipeline, layout: partial.bindGroupLayout,
        uniform: params(args.maxNorm, i), resources, workgroups: [groups[i], 1, 1],
      }));
    }
    ops.push(await makeOp(engine, {
      label: `${label}:final`, pipeline: final.pipeline, layout: final.bindGroupLayout, uniform: params(args.maxNorm, 0), resources: bound[0], workgroups: [1, 1, 1],
    }));
    const setMaxNorm = (maxNorm: number | undefined) => ops.forEach((op, i) => op.writeUniform(params(maxNorm, i < pieces.length ? i : 0)));
    return {
      label,
      workgroups: ops[0].workgroups,
      encode(pass) {
        for (const op of ops) op.encode(pass);
      },
      writeUniform(data) {
        if (!one) throw new Error(`${label}: a gradient in pieces takes setMaxNorm, not a raw uniform`);
        for (const op of ops) op.writeUniform(data);
      },
      setMaxNorm,
      destroy() {
        for (const op of ops) op.destroy();
        engine.pool.destroy(workspace);
      },
    };
  } catch (e) {
    for (const op of ops) op.destroy();
    engine.pool.destroy(workspace);
    throw e;
  }
}
