/**
 * DoRA on the LM head (PEFT applies use_dora to lm_head like any Linear; CPU twin:
 * src/reference/ops/dora.ts through src/reference/projection.ts), one vocabulary chunk [v0, w) at a
 * time like the rest of the head (./head.ts), so nothing of size (N, V) exists:
 *   norm      norm_v = ||W_v + s (B A)_v|| over the hidden size, per chunk from its packed rows,
 *             into norm[v0 : v0 + w] (V), every forward (kept for the backward: A and B do not change)
 *   forward   logits_c (already x W_c^T) += (c - 1) (src W_c^T) + c s h B_c^T,   c = m / norm
 *   backward  (norm detached, as PEFT does; dy = dlogits_c, the base path's dy W_c added by the head)
 *             dm_c += sum_n dy (src W_c^T + s h B_c^T) / norm_c
 *             target (+)= ((c - 1) dy) W_c          target: dxd with dropout, else dxn
 *             dB_c += s (c dy)^T h;   dh (+)= s (c dy) B_c
 * The head then does dA += dh^T src and dx += dropout'(dh A) once after the chunks.
 * `t` is the shared DoRA scratch, (N, Vc) for the head (./dora.ts allocDoraBuffers).
 */
import type { Engine } from '../../engine/context';
import type { BufferRef, PreparedOp } from '../../engine/kernels/common';
import { prepareDoraColScale, prepareDoraMagGrad, prepareDoraWeightNorm } from '../../engine/kernels/dora';
import { prepareMatmul } from '../../engine/kernels/matmul';
import { prepareLinearBackwardInput, prepareLinearForward } from '../../engine/kernels/matmul-weight';
import type { GpuWeight } from '../../engine/kernels/weights';
import type { LoraSlot } from '../plan/lora-layout';
import type { DoraBuffers } from './dora';
import { flatView, type FlatVector } from './lora-state';

export interface HeadDoraChunk {
  engine: Engine;
  /** lm_head's slot (offsetM set) */
  slot: LoraSlot;
  params: FlatVector;
  dora: DoraBuffers;
  /** (w, C) the head's rows [v0, v0 + w) */
  weight: GpuWeight;
  v0: number;
  w: number;
  /** tokens */
  N: number;
}

const tag = (c: HeadDoraChunk) => `lm_head dora [${c.v0}:${c.v0 + c.w}]`;
/** (w) this chunk's slice of the head's norms */
const normView = (c: HeadDoraChunk): BufferRef => ({ buffer: c.dora.norm, offset: 4 * c.v0 });
/** (w) m of this chunk's rows */
const magView = (v: FlatVector, c: HeadDoraChunk) => flatView(v, c.slot.offsetM! + c.v0, c.w);
/** (w, r) B of this chunk's rows */
const bView = (v: FlatVector, c: HeadDoraChunk) => flatView(v, c.slot.offsetB + c.v0 * c.slot.r, c.w * c.slot.r);

/** norm[v0 : v0 + w] = ||W_v + s (B A)_v|| for the chunk's rows and the current A, B. */
export function prepareHeadDoraNorm(c: HeadDoraChunk): Promise<PreparedOp[]> {
  const { slot } = c;
  return prepareDoraWeightNorm(c.engine, {
    norm: normView(c), weight: { format: c.weight.format, rows: c.w, cols: slot.inFeatures, shards: [{ r0: 0, weight: c.weight }] },
    A: flatView(c.params, slot.offsetA, slot.r * slot.inFeatures), B: bView(c.params, c), R: slot.r, scale: slot.scale, label: `${tag(c)} norm`,
  });
}

/** (t) = src W_c^T [+ s h B_c^T]: the chunk's base output from src, and optionally its LoRA output added. */
async function baseAndLora(c: HeadDoraChunk, src: BufferRef, h: BufferRef, withLora: boolean, what: string): Promise<PreparedOp[]> {
  const ops = [await prepareLinearForward(c.engine, { out: c.dora.t, x: src, weight: c.weight, M: c.N, label: `${tag(c)} ${what} base` })];
  if (withLora) {
    ops.push(await prepareMatmul(c.engine, {
      out: c.dora.t, a: h, b: bView(c.params, c), M: c.N, N: c.w, K: c.slot.r, transB: true, alpha: c.slot.scale, accumulate: true, label: `${tag(c)} ${what} lora`,
    }));
  }
  return ops;
}

/** (t) = (m / norm + delta) inp, or logits += that (accumulate). */
function colScale(c: HeadDoraChunk, out: BufferRef, inp: BufferRef, delta: number, accumulate: boolean, what: string): Promise<PreparedOp> {
  return prepareDoraColScale(c.engine, { out, inp, m: magView(c.params, c), norm: normView(c), N: c.N, Out: c.w, delta, accumulate, label: `${tag(c)} ${what}` });
}

/**
 * After logits (N, w) = xnf W_c^T: logits += (c - 1) src W_c^T + c s h B_c^T. src: xnf or dropout(xnf);
 * h (N, r) = src A^T.
 */
export async function prepareHeadDoraForward(c: HeadDoraChunk & { logits: BufferRef; src: BufferRef; h: BufferRef }): Promise<PreparedOp[]> {
  const { slot } = c;
  return [
    ...await baseAndLora(c, c.src, c.h, false, 'fwd'),
    await colScale(c, c.logits, c.dora.t, -1, true, '(c-1) base'),
    await prepareMatmul(c.engine, { out: c.dora.t, a: c.h, b: bView(c.params, c), M: c.N, N: c.w, K: slot.r, transB: true, alpha: slot.scale, label: `${tag(c)} fwd lora` }),
    await colScale(c, c.logits, c.dora.t, 0, true, 'c lora'),
  ];
}

/**
 * With dy = dlogits (N, w) in `dy`: dm_c, ((c - 1) dy) W_c into target, dB_c and dh (written by the
 * first chunk, added to by the others). `targetAccumulate`: add to target instead of writing it.
 */
export async function prepareHeadDoraBackward(c: HeadDoraChunk & {
  grads: FlatVector; dy: BufferRef; src: BufferRef; h: BufferRef; dh: BufferRef; target: BufferRef; targetAccumulate: boolean; first: boolean;
}): Promise<PreparedOp[]> {
  const { engine, slot, N, w, dora } = c;
  return [
    ...await baseAndLora(c, c.src, c.h, true, 'bwd t'),
    await prepareDoraMagGrad(engine, { dm: magView(c.grads, c), dy: c.dy, t: dora.t, norm: normView(c), N, Out: w, label: `${tag(c)} dm` }),
    await colScale(c, dora.t, c.dy, -1, false, '(c-1) dy'),
    await prepareLinearBackwardInput(engine, { dx: c.target, dy: dora.t, weight: c.weight, M: N, accumulate: c.targetAccumulate, label: `${tag(c)} dx base` }),
    await colScale(c, dora.t, c.dy, 0, false, 'c dy'),
    await prepareMatmul(engine, {
      out: bView(c.grads, c), a: dora.t, b: c.h, M: w, N: slot.r, K: N, transA: true, alpha: slot.scale, accumulate: true, label: `${tag(c)} dB`,
    }),
    await prepareMatmul(engine, { out: c.dh, a: dora.t, b: bView(c.params, c), M: N, N: slot.r, K: w, alpha: slot.scale, accumulate: !c.first, label: `${tag(c)} dh` }),
  ];
}
