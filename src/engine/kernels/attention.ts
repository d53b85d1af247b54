/**
 * Causal grouped-query attention, forward (shaders/attention_forward.wgsl), flash-attention style,
 * as `attentionForward` in src/reference/ops/attention.ts but without the (B, H, T, T) matrix:
 *   out (B, T, H, D) = softmax(q k^T / sqrt(D) + causal mask) v,  query head h reads KV head h / (H/KV)
 *   lse (B, H, T)    = the per-row logsumexp of the scaled scores, kept for the backward
 * One workgroup of 64 per (query block, head, batch) runs an online softmax over key tiles staged in
 * workgroup memory. Buffers are contiguous, row-major, f32. The backward is in attention-backward.ts.
 *
 * Also home of what both directions share: the shape, the tile choice and the workspace sizes.
 */
import shader from '../../../shaders/attention_forward.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec } from '../pipelines';
import { checkDims, checkNoAlias, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';

export interface AttentionShape {
  B: number;
  T: number;
  /** query heads */
  H: number;
  /** key/value heads; H % KV == 0 */
  KV: number;
  /** head dim */
  D: number;
}

/** Threads per workgroup and accumulator registers per thread (WG and NACC in the WGSL). */
const WG = 64;
const NACC = 16;
/** Workgroup memory every WebGPU device guarantees (maxComputeWorkgroupStorageSize >= 16 KiB). */
export const ATTENTION_SMEM_BUDGET = 16384;

export interface Tile {
  /** query rows per tile */
  BR: number;
  /** keys per tile */
  BC: number;
}

export interface AttentionTiles {
  fwd: Tile;
  dq: Tile;
  dkdv: Tile;
}

/** Workgroup memory in bytes of each kernel (tile rows are padded to D + 1 words). */
export const attentionSmemBytes = {
  fwd: ({ BR, BC }: Tile, D: number) => 4 * ((BR + BC) * (D + 1) + BR * BC + BR),
  dq: ({ BR, BC }: Tile, D: number) => 4 * ((2 * BR + BC) * (D + 1) + BR * BC + 2 * BR),
  dkdv: ({ BR, BC }: Tile, D: number) => 4 * ((2 * BC + 2 * BR) * (D + 1) + 2 * BR * BC + 2 * BR),
};

const SIZES = [16, 8, 4, 2, 1];

/**
 * The largest tiles (at most 16) whose workgroup memory fits the guaranteed 16 KiB and whose
 * register accumulators (BR * D for fwd and dq, BC * D for dkdv) fit WG * NACC = 1024. The same on
 * every device, so results do not depend on the adapter. E.g. D = 64: fwd 16/16, dq 16/16, dkdv
 * BC 16, BR 8; D = 128: fwd 8/8, dq 8/8, dkdv BC 8, BR 4.
 */
export function attentionTiles(D: number): AttentionTiles {
  const fits = (kind: keyof AttentionTiles, t: Tile, acc: number) =>
    acc * D <= WG * NACC && attentionSmemBytes[kind](t, D) <= ATTENTION_SMEM_BUDGET;
  const square = (kind: 'fwd' | 'dq') => SIZES.find((n) => fits(kind, { BR: n, BC: n }, n));
  const fwd = square('fwd');
  const dq = square('dq');
  const BC = SIZES.find((n) => fits('dkdv', { BR: 1, BC: n }, n));
  const BR = BC && SIZES.find((n) => fits('dkdv', { BR: n, BC }, BC));
  if (!fwd || !dq || !BC || !BR) throw new RangeError(`attention: head dim D = ${D} is too large for the tiles`);
  return { fwd: { BR: fwd, BC: fwd }, dq: { BR: dq, BC: dq }, dkdv: { BR, BC } };
}

/**
 * Bytes of the two (B, H, T) f32 buffers the attention needs besides its inputs and outputs, for the
 * memory plan: `lse`, written by the forward and read by the backward, so one per layer, kept from
 * the forward to the backward (an activation); `dvec`, scratch of the backward only, so one buffer
 * can serve every layer (workspace). The caller allocates both and passes them in.
 */
export function attentionWorkspaceBytes(s: Pick<AttentionShape, 'B' | 'H' | 'T'>): { lse: number; dvec: number } {
  const bytes = 4 * s.B * s.H * s.T;
  return { lse: bytes, dvec: bytes };
}

/** Shape guards shared by both directions; returns the shape strings for binding messages. */
export function checkAttentionShape(label: string, s: AttentionShape) {
  const { B, T, H, KV, D } = s;
  checkDims(label, { B, T, H, KV, D });
  if (H % KV !== 0) throw new RangeError(`${label}: H = ${H} query heads is not a multiple of KV = ${KV}`);
  return {
    qShape: `(B, T, H, D) = (${B}, ${T}, ${H}, ${D})`,
    kvShape: `(B, T, KV, D) = (${B}, ${T}, ${KV}, ${D})`,
    rowShape: `(B, H, T) = (${B}, ${H}, ${T})`,
    qBytes: 4 * B * T * H * D,
    kvBytes: 4 * B * T * KV * D,
    rowBytes: 4 * B * H * T,
  };
}

/** The uniform block `Params { B, T, H, KV }` of both shaders. */
export function attentionParams(s: AttentionShape): ArrayBuffer {
  return uniformBlock([['u', s.B], ['u', s.T], ['u', s.H], ['u', s.KV]]);
}

const FORWARD = layoutSpec(['uniform', 'read', 'read', 'read', 'rw', 'rw']);

export interface AttentionForwardArgs extends AttentionShape {
  /** (B, T, H, D), overwritten */
  out: BufferRef;
  /** (B, H, T), overwritten: per-row logsumexp for the backward */
  lse: BufferRef;
  /** (B, T, H, D), after RoPE */
  q: BufferRef;
  /** (B, T, KV, D), after RoPE */
  k: BufferRef;
  /** (B, T, KV, D) */
  v: BufferRef;
  label?: string;
}

export async function prepareAttentionForward(engine: Engine, a: AttentionForwardArgs): Promise<PreparedOp> {
  const { B, T, H, KV, D } = a;
  const label = a.label ?? `attention fwd B${B} T${T} H${H} KV${KV} D${D}`;
  const s = checkAttentionShape(label, a);
  const { BR, BC } = attentionTiles(D).fwd;
  const b = resolveBindings(engine, label, [
    { name: 'q', ref: a.q, bytes: s.qBytes, shape: s.qShape },
    { name: 'k', ref: a.k, bytes: s.kvBytes, shape: s.kvShape },
    { name: 'v', ref: a.v, bytes: s.kvBytes, shape: s.kvShape },
    { name: 'out', ref: a.out, bytes: s.qBytes, shape: s.qShape },
    { name: 'lse', ref: a.lse, bytes: s.rowBytes, shape: s.rowShape },
  ]);
  checkNoAlias(label, b[3], b.slice(0, 3));
  checkNoAlias(label, b[4], b.slice(0, 4));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'attention_forward', code: shader, entryPoint: 'attention_forward',
    constants: { D, BR, BC }, layout: FORWARD,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: attentionParams(a),
    resources: b, workgroups: [Math.ceil(T / BR), H, B],
  });
}
