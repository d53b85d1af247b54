/**
 * Causal grouped-query attention, forward (shaders/attention_forward.wgsl), flash-attention style,
 * as `attentionForward` in src/reference/ops/attention.ts but without the (B, H, T, T) matrix:
 *   out (B, T, H, D) = softmax(q k^T / sqrt(D) + causal mask) v,  query head h reads KV head h / (H/KV)
 *   lse (B, H, T)    = the per-row logsumexp of the scaled scores, kept for the backward
 * with the score variants of `AttentionVariant` (Gemma 2/3): another scale, a sliding window (key
 * tiles before a block's window are skipped, so the cost grows with the window, not with T), tanh
 * soft-capping of the scores.
 * One workgroup per (query block, head, batch) runs an online softmax over key tiles staged in
 * workgroup memory (vec4 tiles, register-blocked products; the layout is in the WGSL header).
 * Buffers are contiguous, row-major, f32. The backward is in attention-backward.ts. Any head dim up
 * to ATTENTION_MAX_D works: tile rows are zero-padded to whole vec4s, so D % 4 != 0 (which config.ts
 * allows, and only test models have) takes the same path with a few zero lanes.
 *
 * Also home of what both directions (and decode) share: the shape, the score variants, the tile
 * choice and the workspace sizes.
 */
import body from '../../../shaders/attention_forward.wgsl?raw';
import rows from '../../../shaders/lib/attention_rows.wgsl?raw';
import tanhLib from '../../../shaders/lib/tanh.wgsl?raw';
import variantLib from '../../../shaders/lib/attention_variant.wgsl?raw';
import type { AttentionOptions } from '../../reference/ops/attention';
import type { Engine } from '../context';
import { isCpuAdapter } from '../device';
import { layoutSpec } from '../pipelines';
import { checkDims, checkNoAlias, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';

/** WGSL every attention kernel starts with: the overflow-safe tanh and the score variants. */
export const ATTENTION_VARIANT_WGSL = `${tanhLib}\n${variantLib}`;

/** The module: the variants, the shared shape uniform, q, k, v bindings and row readers, then this kernel. */
const shader = `${ATTENTION_VARIANT_WGSL}\n${rows}\n${body}`;

/**
 * Score variants of every attention kernel, the reference's AttentionOptions (Gemma 2/3):
 *   scale    multiplier of q.k, default 1/sqrt(D) (Gemma: query_pre_attn_scalar^-1/2)
 *   window   sliding window: query i sees keys j with i - window < j <= i; null/absent: full causal
 *   softcap  scores s -> softcap tanh(s / softcap) after scaling, before mask and softmax; null/absent: none
 * The backward must get the forward's variant.
 */
export type AttentionVariant = AttentionOptions;

/**
 * The override constants (SCALE, WINDOW, SOFTCAP in lib/attention_variant.wgsl) of a variant: only
 * those that differ from the default, so the default pipelines stay the very same ones. A window of
 * `span` keys or more (T, or the cache length for decode) is full causal attention and is dropped.
 */
export function attentionVariantConstants(label: string, v: AttentionVariant, D: number, span: number): Record<string, number> {
  const c: Record<string, number> = {};
  if (v.scale !== undefined && v.scale !== 1 / Math.sqrt(D)) {
    if (!(Number.isFinite(v.scale) && v.scale > 0)) throw new RangeError(`${label}: scale must be a positive number, got ${v.scale}`);
    c.SCALE = v.scale;
  }
  if (v.window != null) {
    if (!(Number.isSafeInteger(v.window) && v.window >= 1)) throw new RangeError(`${label}: window must be an integer >= 1, got ${v.window}`);
    if (v.window < span) c.WINDOW = v.window;
  }
  if (v.softcap != null) {
    if (!(Number.isFinite(v.softcap) && v.softcap > 0)) throw new RangeError(`${label}: softcap must be a positive number, got ${v.softcap}`);
    c.SOFTCAP = v.softcap;
  }
  return c;
}

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

/** Workgroup memory every WebGPU device guarantees (maxComputeWorkgroupStorageSize >= 16 KiB). */
export const ATTENTION_SMEM_BUDGET = 16384;
/** The largest head dim the tiles fit (as ATTENTION_DECODE_MAX_D for generation). */
export const ATTENTION_MAX_D = 256;

/**
 * How one kernel cuts its work (the override constants of the WGSL of the same names). Each key
 * tile's scores are computed in blocks of RB query rows x 4 keys per invocation; the products that
 * follow give each invocation RQ query rows (fwd, dq) or 4 keys (dkdv) x NQ vec4 columns of D.
 */
export interface Tile {
  /** query rows per tile */
  BR: number;
  /** keys per tile (a multiple of 4) */
  BC: number;
  /** invocations per workgroup */
  WG: number;
  /** query rows per score block (1, 2 or 4) */
  RB: number;
  /** fwd, dq: query rows per invocation in the product with K or V (1, 2 or 4); dkdv: 4 (keys) */
  RQ: number;
}

export interface AttentionTiles {
  fwd: Tile;
  dq: Tile;
  dkdv: Tile;
}

/** vec4s per row of a tile in workgroup memory: ceil(D / 4) padded by one (see the WGSL). */
const rowStride = (D: number) => Math.ceil(D / 4) + 1;

/** Workgroup memory in bytes of each kernel (layouts in the WGSL headers). */
export const attentionSmemBytes = {
  /** qs (BR), ks, vs (BC) rows of SD vec4; ss (BR, BC) f32 */
  fwd: ({ BR, BC }: Tile, D: number) => 16 * (BR + 2 * BC) * rowStride(D) + 4 * BR * BC,
  /** qs, dos (BR), ks, vs (BC) rows; dss (BR, BC); rowLse, rowD (BR) */
  dq: ({ BR, BC }: Tile, D: number) => 16 * (2 * BR + 2 * BC) * rowStride(D) + 4 * BR * BC + 8 * BR,
  /** ks, vs (BC), qs, dos (BR) rows; ps, dss (BR, BC); rowLse, rowD (BR) */
  dkdv: ({ BR, BC }: Tile, D: number) => 16 * (2 * BC + 2 * BR) * rowStride(D) + 8 * BR * BC + 8 * BR,
};

/**
 * NQ, the vec4 columns per invocation in the second product: D4 split over the invocations that
 * share a row group (fwd, dq) or a key quad (dkdv); Infinity when WG does not split evenly.
 */
export function columnsPerInvocation(kind: keyof AttentionTiles, { BR, BC, WG, RQ }: Tile, D: number): number {
  const groups = kind === 'dkdv' ? BC / 4 : BR / RQ;
  return WG % groups === 0 ? Math.ceil(Math.ceil(D / 4) / (WG / groups)) : Infinity;
}

/** Invocations per workgroup to try, in order: few on a CPU adapter, a GPU's usual 64 elsewhere. */
const WGS = { cpu: [16, 32, 64], gpu: [64, 32, 16] };
const SIZES = [16, 8, 4, 2, 1];

/**
 * The tiles of each kernel: the largest BR x BC (at most 16 x 16) whose workgroup memory fits the
 * guaranteed 16 KiB and whose accumulators fit the WGSL's registers (fwd, dq: RQ <= 4 rows x NQ <= 4
 * vec4 columns; dkdv: 4 keys x NQ <= 2 columns for each of dk and dv), with the fewest invocations
 * (on a CPU adapter 16 for every D up to 128: SwiftShader runs invocations as fibers and every
 * barrier switches them all, and the bench shapes ran 1.3x slower with 32 and 1.7x with 64; on a
 * GPU 64, two warps or one wavefront, so a workgroup does not leave most of its SIMD lanes idle).
 * RB is then the most rows per score block that still gives every invocation a block (on a GPU
 * some invocations may sit out the score step; all of them share the products that follow). The
 * summation order does not depend on WG, so both choices give the same bits. E.g. on a CPU
 * adapter (BR/BC) D = 64: fwd 16/16, dq 16/8, dkdv 16/8; D = 128: fwd 8/8, dq 8/4, dkdv 8/4.
 */
export function attentionTiles(D: number, adapter: 'cpu' | 'gpu' = 'cpu'): AttentionTiles {
  if (D > ATTENTION_MAX_D) {
    throw new RangeError(`attention: head dim D = ${D} exceeds ${ATTENTION_MAX_D}, the largest whose tiles fit the 16 KiB of workgroup memory every WebGPU device guarantees`);
  }
  const pick = (kind: keyof AttentionTiles): Tile => {
    const maxColumns = kind === 'dkdv' ? 2 : 4;
    for (const WG of WGS[adapter]) {
      let best: Tile | undefined;
      for (const BR of SIZES) {
        for (const BC of SIZES.filter((n) => n % 4 === 0)) {
          for (const RQ of kind === 'dkdv' ? [4] : [4, 2, 1]) {
            if (kind !== 'dkdv' && BR % RQ !== 0) continue;
            const tile = { BR, BC, WG, RB: 1, RQ };
            if (columnsPerInvocation(kind, tile, D) > maxColumns) continue;
            if (attentionSmemBytes[kind](tile, D) > ATTENTION_SMEM_BUDGET) continue;
            if (!best || BR * BC > best.BR * best.BC) best = tile;
          }
        }
      }
      if (!best) continue;
      const tile: Tile = best;
      const blocks = (rb: number) => (tile.BR / rb) * (tile.BC / 4);
      tile.RB = [4, 2, 1].find((rb) => tile.BR % rb === 0 && blocks(rb) >= WG) ?? 1;
      return tile;
    }
    throw new RangeError(`attention: head dim D = ${D} is too large for the ${kind} tiles`);
  };
  return { fwd: pick('fwd'), dq: pick('dq'), dkdv: pick('dkdv') };
}

/** Which workgroup sizes suit the engine's adapter (see attentionTiles). */
export const adapterKind = (engine: Engine): 'cpu' | 'gpu' => (isCpuAdapter(engine.gpu.adapterInfo) ? 'cpu' : 'gpu');

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

export interface AttentionForwardArgs extends AttentionShape, AttentionVariant {
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
  const tile = attentionTiles(D, adapterKind(engine)).fwd;
  const variant = attentionVariantConstants(label, a, D, T);
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
    constants: { D, ...tile, ...variant }, layout: FORWARD,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: attentionParams(a),
    resources: b, workgroups: [Math.ceil(T / tile.BR), H, B],
  });
}
