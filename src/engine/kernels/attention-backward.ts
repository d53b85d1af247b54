/**
 * Causal grouped-query attention, backward (shaders/attention_backward.wgsl), the FlashAttention-2
 * split without atomics, as `attentionBackward` in src/reference/ops/attention.ts. Three dispatches,
 * encoded in order into one pass:
 *   1. dvec (B, H, T) = rowsum(dout * out)                         one thread per row
 *   2. dq   (B, T, H, D)                                           one workgroup per (query block, head, batch)
 *   3. dk, dv (B, T, KV, D), summed over the H/KV heads of a group  one workgroup per (key block, KV head, batch)
 * Probabilities are recomputed from the forward's lse, so no (B, H, T, T) matrix exists. The score
 * variant (scale, window, softcap: AttentionVariant in attention-forward.ts) must be the forward's.
 *
 * dq, dk, dv are OVERWRITTEN by default (unlike the reference, which accumulates): every element is
 * written, so the graph needs no zeroing. `accumulate: true` adds onto them instead.
 */
import body from '../../../shaders/attention_backward.wgsl?raw';
import rows from '../../../shaders/lib/attention_rows.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec } from '../pipelines';
import { checkNoAlias, flatGrid, makeOp, resolveBindings, type BufferRef, type PreparedOp } from './common';
import {
  adapterKind, attentionParams, attentionTiles, attentionVariantConstants, checkAttentionShape, ATTENTION_VARIANT_WGSL,
  type AttentionShape, type AttentionVariant,
} from './attention-forward';

/** The module: the variants, the shared shape uniform, q, k, v bindings and row readers, then this kernel. */
const shader = `${ATTENTION_VARIANT_WGSL}\n${rows}\n${body}`;

const DVEC = layoutSpec(['uniform', 'rw', 'read', 'read']);
const DQ = layoutSpec(['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'rw']);
const DKDV = layoutSpec(['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'rw', 'rw']);
/** Threads per workgroup of the dvec entry point (DVEC_WG in the WGSL). */
const WG = 64;

export interface AttentionBackwardArgs extends AttentionShape, AttentionVariant {
  /** (B, T, H, D), overwritten (or += with accumulate) */
  dq: BufferRef;
  /** (B, T, KV, D), overwritten (or += with accumulate) */
  dk: BufferRef;
  /** (B, T, KV, D), overwritten (or += with accumulate) */
  dv: BufferRef;
  /** (B, T, H, D), gradient of the attention output */
  dout: BufferRef;
  /** (B, T, H, D), after RoPE, as in the forward */
  q: BufferRef;
  /** (B, T, KV, D), after RoPE */
  k: BufferRef;
  /** (B, T, KV, D) */
  v: BufferRef;
  /** (B, T, H, D), the forward's output */
  out: BufferRef;
  /** (B, H, T), the forward's logsumexp */
  lse: BufferRef;
  /** (B, H, T), scratch: written by dispatch 1, read by 2 and 3 (may be shared between layers) */
  dvec: BufferRef;
  /** dq, dk, dv += instead of = (default false: overwrite) */
  accumulate?: boolean;
  label?: string;
}

/** The three dispatches as one op; `workgroups` is the dk/dv grid, `ops` the parts in order. */
export type AttentionBackwardOp = PreparedOp & { readonly ops: readonly PreparedOp[] };

export async function prepareAttentionBackward(engine: Engine, a: AttentionBackwardArgs): Promise<AttentionBackwardOp> {
  const { B, T, H, KV, D } = a;
  const label = a.label ?? `attention bwd B${B} T${T} H${H} KV${KV} D${D}`;
  const s = checkAttentionShape(label, a);
  const tiles = attentionTiles(D, adapterKind(engine));
  const dkdv = tiles.dkdv;  // its RQ is not a constant of the dkdv entry point
  const variant = attentionVariantConstants(label, a, D, T);  // not constants of the dvec entry point
  const [q, k, v, dout, out, lse, dvec, dq, dk, dv] = resolveBindings(engine, label, [
    { name: 'q', ref: a.q, bytes: s.qBytes, shape: s.qShape },
    { name: 'k', ref: a.k, bytes: s.kvBytes, shape: s.kvShape },
    { name: 'v', ref: a.v, bytes: s.kvBytes, shape: s.kvShape },
    { name: 'dout', ref: a.dout, bytes: s.qBytes, shape: s.qShape },
    { name: 'out', ref: a.out, bytes: s.qBytes, shape: s.qShape },
    { name: 'lse', ref: a.lse, bytes: s.rowBytes, shape: s.rowShape },
    { name: 'dvec', ref: a.dvec, bytes: s.rowBytes, shape: s.rowShape },
    { name: 'dq', ref: a.dq, bytes: s.qBytes, shape: s.qShape },
    { name: 'dk', ref: a.dk, bytes: s.kvBytes, shape: s.kvShape },
    { name: 'dv', ref: a.dv, bytes: s.kvBytes, shape: s.kvShape },
  ]);
  const reads = [q, k, v, dout, lse, dvec];
  checkNoAlias(label, dvec, [dout, out]);
  checkNoAlias(label, dq, reads);
  checkNoAlias(label, dk, [...reads, dv]);
  checkNoAlias(label, dv, reads);

  const accumulate = !!a.accumulate;
  const pipe = (entryPoint: string, constants: Record<string, number | boolean>, layout: typeof DQ) =>
    engine.pipelines.compute({ label: 'attention_backward', code: shader, entryPoint, constants, layout });
  const [pDvec, pDq, pDkdv] = await Promise.all([
    pipe('attention_bwd_dvec', { D }, DVEC),
    pipe('attention_bwd_dq', { D, ...tiles.dq, ACCUMULATE: accumulate, ...variant }, DQ),
    pipe('attention_bwd_dkdv', { D, BR: dkdv.BR, BC: dkdv.BC, WG: dkdv.WG, RB: dkdv.RB, ACCUMULATE: accumulate, ...variant }, DKDV),
  ]);
  const uniform = attentionParams(a);
  const ops: PreparedOp[] = [];
  try {
    ops.push(await makeOp(engine, {
      label: `${label}:dvec`, pipeline: pDvec.pipeline, layout: pDvec.bindGroupLayout, uniform,
      resources: [dvec, dout, out], workgroups: flatGrid(engine, Math.ceil((B * T * H) / WG)),
    }));
    ops.push(await makeOp(engine, {
      label: `${label}:dq`, pipeline: pDq.pipeline, layout: pDq.bindGroupLayout, uniform,
      resources: [...reads, dq], workgroups: [Math.ceil(T / tiles.dq.BR), H, B],
    }));
    ops.push(await makeOp(engine, {
      label: `${label}:dkdv`, pipeline: pDkdv.pipeline, layout: pDkdv.bindGroupLayout, uniform,
      resources: [...reads, dk, dv], workgroups: [Math.ceil(T / tiles.dkdv.BC), KV, B],
    }));
  } catch (e) {
    for (const op of ops) op.destroy();
    throw e;
  }
  return {
    label,
    ops,
    workgroups: ops[2].workgroups,
    encode(pass) {
      for (const op of ops) op.encode(pass);
    },
    writeUniform(data) {
      for (const op of ops) op.writeUniform(data);
    },
    destroy() {
      for (const op of ops) op.destroy();
    },
  };
}
