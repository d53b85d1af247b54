/**
 * Attention of a step's queries against the KV cache (shaders/attention_decode.wgsl), as the
 * causal grouped-query attention of src/reference/ops/attention.ts seen from the new rows only:
 *   out (Tq, H, D) row i = softmax(q_i K[0..pos0+i]^T / sqrt(D)) V[0..pos0+i],  head h reads KV head h / (H/KV)
 * with the score variants of the training kernels (AttentionVariant: scale, sliding window over the
 * cache positions pos - window + 1 .. pos, which the loop starts at, softcap).
 * with pos0 and the number of valid rows read from the step buffer (kv-cache.ts), so one prepared
 * op serves every position. Tq = 1 is a decode step; Tq > 1 a prefill chunk (padding rows skipped).
 */
import body from '../../../shaders/attention_decode.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec } from '../pipelines';
import { checkDims, checkNoAlias, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';
import { DECODE_STEP_BYTES } from './kv-cache';
import { attentionVariantConstants, ATTENTION_VARIANT_WGSL, type AttentionVariant } from './attention-forward';

/** The module: the score variants, then the kernel. */
const shader = `${ATTENTION_VARIANT_WGSL}\n${body}`;

const LAYOUT = layoutSpec(['uniform', 'read', 'read', 'read', 'read', 'rw']);
/** Largest head dim: WG * NACC in the WGSL. */
export const ATTENTION_DECODE_MAX_D = 256;

export interface AttentionDecodeArgs extends AttentionVariant {
  /** (Tq, H, D) */
  out: BufferRef;
  /** (DECODE_STEP_BYTES) [pos0, rows] */
  step: BufferRef;
  /** (Tq, H, D) after RoPE */
  q: BufferRef;
  /** (maxLen, KV, D) after RoPE */
  kCache: BufferRef;
  /** (maxLen, KV, D) */
  vCache: BufferRef;
  Tq: number;
  H: number;
  KV: number;
  D: number;
  maxLen: number;
  label?: string;
}

export async function prepareAttentionDecode(engine: Engine, a: AttentionDecodeArgs): Promise<PreparedOp> {
  const { Tq, H, KV, D, maxLen } = a;
  const label = a.label ?? `attention decode Tq${Tq} H${H} KV${KV} D${D}`;
  checkDims(label, { Tq, H, KV, D, maxLen });
  if (H % KV !== 0) throw new RangeError(`${label}: H = ${H} query heads is not a multiple of KV = ${KV}`);
  if (D > ATTENTION_DECODE_MAX_D) throw new RangeError(`${label}: head dim D = ${D} exceeds ${ATTENTION_DECODE_MAX_D}`);
  const variant = attentionVariantConstants(label, a, D, maxLen);
  const qShape = `(Tq, H, D) = (${Tq}, ${H}, ${D})`;
  const cShape = `(maxLen, KV, D) = (${maxLen}, ${KV}, ${D})`;
  const b = resolveBindings(engine, label, [
    { name: 'step', ref: a.step, bytes: DECODE_STEP_BYTES, shape: '(4) u32' },
    { name: 'q', ref: a.q, bytes: 4 * Tq * H * D, shape: qShape },
    { name: 'kCache', ref: a.kCache, bytes: 4 * maxLen * KV * D, shape: cShape },
    { name: 'vCache', ref: a.vCache, bytes: 4 * maxLen * KV * D, shape: cShape },
    { name: 'out', ref: a.out, bytes: 4 * Tq * H * D, shape: qShape },
  ]);
  checkNoAlias(label, b[4], b.slice(0, 4));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'attention_decode', code: shader, entryPoint: 'attention_decode', constants: { D, ...variant }, layout: LAYOUT,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout,
    uniform: uniformBlock([['u', Tq], ['u', H], ['u', KV], ['u', maxLen]]),
    resources: b, workgroups: [Tq, H, 1],
  });
}
