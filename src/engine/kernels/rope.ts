/**
 * Rotary position embedding, Hugging Face "rotate half" layout (shaders/rope.wgsl), as
 * src/reference/ops/rope.ts, on q (B, T, H, D) or k (B, T, KV, D): prepare one op per tensor.
 *   forward   rotate every (i, i + D/2) pair of row (b, t) by the angle of position posOffset + t
 *   backward  the same with -angle (the transpose of a rotation)
 * In place when `inp` is omitted (out is read and written), else out-of-place from inp into out.
 * Out-of-place writes by default in the forward and ACCUMULATES by default in the backward (the
 * reference's convention: dq, dk may be fed by more than one path); `accumulate` overrides it.
 * In place cannot accumulate.
 *
 * The cos/sin tables (Tmax, D/2) are precomputed on the CPU by the reference's `ropeTables` (float64,
 * rounded once), so the GPU agrees with the reference bitwise in the tables; upload them once per run
 * with `uploadRopeTables`. posOffset (KV-cache generation) needs posOffset + T <= Tmax.
 */
import type { Category } from '../../core/memory-categories';
import type { RopeSpec } from '../../config/rope';
import shader from '../../../shaders/rope.wgsl?raw';
import type { Engine } from '../context';
import { uploadBuffer } from '../upload';
import { ropeTables } from '../../reference/ops/rope';
import { checkDims, checkNoAlias, flatGrid, FLAT_WG, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';
import { layoutSpec } from '../pipelines';

const IN_PLACE = layoutSpec(['uniform', 'rw', 'read', 'read']);
const OUT_OF_PLACE = layoutSpec(['uniform', 'rw', 'read', 'read', 'read']);

export interface RopeTables {
  /** (Tmax, D/2) */
  cos: GPUBuffer;
  /** (Tmax, D/2) */
  sin: GPUBuffer;
  /** Tmax: positions 0 .. Tmax-1 */
  rows: number;
  D: number;
}

/**
 * Upload the cos/sin tables of positions 0..Tmax-1 (from the reference's ropeTables); `rope` is
 * rope_theta, or rope_theta with its rope_scaling (Llama 3 and linear).
 */
export async function uploadRopeTables(
  engine: Engine, Tmax: number, D: number, rope: number | RopeSpec, category: Category = 'workspace',
): Promise<RopeTables> {
  checkDims('rope tables', { Tmax, D });
  const { cos, sin } = ropeTables(Float32Array, Tmax, D, rope);
  const [c, s] = await Promise.all([
    uploadBuffer(engine.pool, cos, { category, label: `rope cos (${Tmax}, ${D / 2})` }),
    uploadBuffer(engine.pool, sin, { category, label: `rope sin (${Tmax}, ${D / 2})` }),
  ]);
  return { cos: c, sin: s, rows: Tmax, D };
}

export interface RopeArgs {
  /** (B, T, H, D): the rotated tensor; also the input when `inp` is omitted (in place) */
  out: BufferRef;
  /** (B, T, H, D), optional: out-of-place input, must not share a buffer with out */
  inp?: BufferRef;
  tables: RopeTables;
  B: number;
  T: number;
  /** heads of this tensor: n_head for q, n_kv_head for k */
  H: number;
  D: number;
  /** position of t = 0 (default 0) */
  posOffset?: number;
  /** out-of-place only: out += instead of out = (default: false forward, true backward) */
  accumulate?: boolean;
  label?: string;
}

/** A RoPE op whose position offset can move between steps (generation with a KV cache). */
export type RopeOp = PreparedOp & { setPosOffset(posOffset: number): void };

export function prepareRopeForward(engine: Engine, a: RopeArgs): Promise<RopeOp> {
  return prepareRope(engine, a, 1);
}

export function prepareRopeBackward(engine: Engine, a: RopeArgs): Promise<RopeOp> {
  return prepareRope(engine, a, -1);
}

async function prepareRope(engine: Engine, a: RopeArgs, sign: 1 | -1): Promise<RopeOp> {
  const { B, T, H, D, tables } = a;
  const inPlace = a.inp === undefined;
  const label = a.label ?? `rope ${sign > 0 ? 'fwd' : 'bwd'}${inPlace ? ' in place' : ''} ${B}x${T}x${H}x${D}`;
  checkDims(label, { B, T, H, D });
  if (D % 2 !== 0) throw new RangeError(`${label}: head dim D = ${D} must be even`);
  if (tables.D !== D) throw new RangeError(`${label}: tables are for D = ${tables.D}, not ${D}`);
  const accumulate = a.accumulate ?? (sign < 0 && !inPlace);
  if (inPlace && accumulate) throw new RangeError(`${label}: an in-place rotation cannot accumulate; pass inp`);
  const checkOffset = (p: number) => {
    if (!Number.isSafeInteger(p) || p < 0 || p + T > tables.rows) {
      throw new RangeError(`${label}: positions ${p} .. ${p + T - 1} are outside the tables (${tables.rows} rows)`);
    }
  };
  checkOffset(a.posOffset ?? 0);

  const shape = `(B, T, H, D) = (${B}, ${T}, ${H}, ${D})`;
  const n = B * T * H * D;
  const tab = `(Tmax, D/2) = (${tables.rows}, ${D / 2})`;
  const b = resolveBindings(engine, label, [
    { name: 'out', ref: a.out, bytes: 4 * n, shape },
    ...(inPlace ? [] : [{ name: 'inp', ref: a.inp!, bytes: 4 * n, shape }]),
    { name: 'cos', ref: tables.cos, bytes: 4 * tables.rows * (D / 2), shape: tab },
    { name: 'sin', ref: tables.sin, bytes: 4 * tables.rows * (D / 2), shape: tab },
  ]);
  checkNoAlias(label, b[0], b.slice(1));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'rope', code: shader, entryPoint: inPlace ? 'rope_inplace' : 'rope_out',
    constants: inPlace ? { SIGN: sign } : { SIGN: sign, ACCUMULATE: accumulate }, layout: inPlace ? IN_PLACE : OUT_OF_PLACE,
  });
  const params = (p: number) => uniformBlock([['u', B], ['u', T], ['u', H], ['u', D], ['u', p], ['u', 0], ['u', 0], ['u', 0]]);
  const op = await makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: params(a.posOffset ?? 0),
    resources: b, workgroups: flatGrid(engine, Math.ceil(n / 2 / FLAT_WG)),
  });
  return {
    ...op,
    setPosOffset(p: number) {
      checkOffset(p);
      op.writeUniform(params(p));
    },
  };
}
