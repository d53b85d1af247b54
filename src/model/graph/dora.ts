/**
 * DoRA's ops inside one projection (PEFT's use_dora; CPU twin: src/reference/ops/dora.ts):
 *   forward   norm = ||W + s B A||_row (from the packed base weight, every forward), c = m / norm,
 *             y = x W^T + b  +  (c - 1) (xd W^T)  +  c s h B^T,   h = xd A^T
 *   backward  (norm constant, as PEFT detaches it)
 *             dm += sum_n dy (xd W^T + s h B^T) / norm
 *             dB += s (c dy)^T h,  dh = s (c dy) B,  dA += dh^T xd
 *             dx += dropout'( ((c - 1) dy) W + dh A )   (the base path's dy W is added by the projection)
 * `t` is one (N, max out) scratch shared by every module; `norm` (out) is the module's own, kept from
 * the forward for the backward (the parameters do not change in between).
 */
import type { Engine } from '../../engine/context';
import { BufferUsage } from '../../engine/flags';
import type { BufferRef, PreparedOp } from '../../engine/kernels/common';
import { prepareAccumulate } from '../../engine/kernels/elementwise';
import { prepareDoraColScale, prepareDoraMagGrad, prepareDoraWeightNorm } from '../../engine/kernels/dora';
import { prepareMatmul } from '../../engine/kernels/matmul';
import { prepareShardedLinearBackwardInput, prepareShardedLinearForward } from '../../engine/kernels/matmul-weight';
import type { ShardedWeight } from '../../engine/kernels/weights';
import type { LoraSlot } from '../plan/lora-layout';
import { magnitudeView, slotViews, type FlatVector, type LoraState } from './lora-state';
import { MLP_MODULES } from './mlp-chunks';

export interface DoraBuffers {
  /** (out) this module's row norms of W + s B A */
  norm: GPUBuffer;
  /** (N, max out) scratch shared by every DoRA module, bound from its start (an MLP module in token-row chunks uses (rows, out)) */
  t: GPUBuffer;
}

interface DoraArgs {
  engine: Engine;
  label: string;
  N: number;
  slot: LoraSlot;
  /** the flat parameter vector holding the slot's A, B and m */
  params: FlatVector;
  weight: ShardedWeight;
  dora: DoraBuffers;
}

/** norm (out) = ||W + s B A||_row for the current A and B. */
export function prepareDoraNorm(a: DoraArgs): Promise<PreparedOp[]> {
  const { A, B } = slotViews(a.params, a.slot);
  return prepareDoraWeightNorm(a.engine, { norm: a.dora.norm, weight: a.weight, A, B, R: a.slot.r, scale: a.slot.scale, label: `${a.label} dora norm` });
}

/**
 * After y = x W^T + b and h = src A^T: the norm (unless `withNorm` is false: a decoder's single-token
 * step reuses its prefill's, an MLP token-row chunk after the first reuses the first chunk's), then
 * y += (c - 1) src W^T + c s h B^T. src: x or dropout(x).
 */
export async function prepareDoraForward(a: DoraArgs & { src: BufferRef; y: BufferRef; h: BufferRef; withNorm?: boolean }): Promise<PreparedOp[]> {
  const { engine, N, slot, dora } = a;
  const O = slot.outFeatures;
  const { B } = slotViews(a.params, slot);
  const m = magnitudeView(a.params, slot);
  const scaleCols = (delta: number, what: string) =>
    prepareDoraColScale(engine, { out: a.y, inp: dora.t, m, norm: dora.norm, N, Out: O, delta, accumulate: true, label: `${a.label} dora ${what}` });
  return [
    ...(a.withNorm === false ? [] : await prepareDoraNorm(a)),
    // t (N, out) = src W^T (no bias); y += (c - 1) t
    ...await prepareShardedLinearForward(engine, { out: dora.t, x: a.src, weight: a.weight, M: N, label: `${a.label} dora base` }),
    await scaleCols(-1, 'base'),
    // t = s h B^T; y += c t
    await prepareMatmul(engine, { out: dora.t, a: a.h, b: B, M: N, N: O, K: slot.r, transB: true, alpha: slot.scale, label: `${a.label} dora lora out` }),
    await scaleCols(0, 'lora'),
  ];
}

/**
 * The LoRA and magnitude gradients and DoRA's share of dx. src: x or the recomputed dropout(x);
 * dxd: (N, in) scratch for the gradient of dropout(x) when there is dropout (null: straight into dx).
 * The caller applies dropout' to dxd into dx afterwards.
 */
export async function prepareDoraBackward(a: DoraArgs & {
  grads: FlatVector; src: BufferRef; h: BufferRef; dh: GPUBuffer; dy: BufferRef; dx: BufferRef | null; dxd: GPUBuffer | null;
}): Promise<PreparedOp[]> {
  const { engine, N, slot, dora, label } = a;
  const { r, inFeatures: K, outFeatures: O, scale } = slot;
  const { A, B } = slotViews(a.params, slot);
  const grads = slotViews(a.grads, slot);
  const m = magnitudeView(a.params, slot);
  const ops: PreparedOp[] = [
    // t (N, out) = src W^T + s h B^T; dm += sum_n dy t / norm
    ...await prepareShardedLinearForward(engine, { out: dora.t, x: a.src, weight: a.weight, M: N, label: `${label} dora t base` }),
    await prepareMatmul(engine, { out: dora.t, a: a.h, b: B, M: N, N: O, K: r, transB: true, alpha: scale, accumulate: true, label: `${label} dora t lora` }),
    await prepareDoraMagGrad(engine, { dm: magnitudeView(a.grads, slot), dy: a.dy, t: dora.t, norm: dora.norm, N, Out: O, label: `${label} dora dm` }),
  ];
  const target = a.dxd ?? a.dx; // where the dropped input's gradient goes
  if (target) {
    // t = (c - 1) dy; target (+)= t W
    ops.push(await prepareDoraColScale(engine, { out: dora.t, inp: a.dy, m, norm: dora.norm, N, Out: O, delta: -1, accumulate: false, label: `${label} dora (c-1) dy` }));
    ops.push(...await prepareShardedLinearBackwardInput(engine, { dx: target, dy: dora.t, weight: a.weight, M: N, accumulate: !a.dxd, label: `${label} dora dx base` }));
  }
  // t = c dy; dB += s t^T h; dh = s t B; dA += dh^T src
  ops.push(await prepareDoraColScale(engine, { out: dora.t, inp: a.dy, m, norm: dora.norm, N, Out: O, delta: 0, accumulate: false, label: `${label} dora c dy` }));
  ops.push(await prepareMatmul(engine, { out: grads.B, a: dora.t, b: a.h, M: O, N: r, K: N, transA: true, alpha: scale, accumulate: true, label: `${label} dora dB` }));
  ops.push(await prepareMatmul(engine, { out: a.dh, a: dora.t, b: B, M: N, N: r, K: O, alpha: scale, label: `${label} dora dh` }));
  ops.push(await prepareMatmul(engine, { out: grads.A, a: a.dh, b: a.src, M: r, N: K, K: N, transA: true, accumulate: true, label: `${label} dora dA` }));
  if (target) ops.push(await prepareMatmul(engine, { out: target, a: a.dh, b: A, M: N, N: K, K: r, accumulate: true, label: `${label} dora dx lora` }));
  return ops;
}

/**
 * The DoRA buffers of a run, keyed by module path: each module's norm (out) and one (N, max out)
 * scratch for all (both through the pool, so the memory plan counts them). Null without DoRA.
 * `mlpRows`: the rows of the MLP's token-row chunks (./mlp-chunks.ts) when they are fewer than N:
 * the MLP modules then use only that many rows of the scratch. `headRows`: the LM head's vocabulary
 * chunk (Vc): lm_head uses (N, Vc) of the scratch, never (N, V) (./head-dora.ts).
 */
export async function allocDoraBuffers(
  engine: Engine, slots: readonly LoraSlot[], N: number, mlpRows = N, headRows = Infinity,
): Promise<Map<string, DoraBuffers> | null> {
  const dora = slots.filter((s) => s.offsetM !== undefined);
  if (!dora.length) return null;
  const usage = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;
  const cols = (s: LoraSlot) => (s.module === 'lm_head' ? Math.min(s.outFeatures, headRows) : s.outFeatures);
  const maxOut = Math.max(...dora.map(cols));
  const rows = (s: LoraSlot) => (MLP_MODULES.includes(s.module) ? mlpRows : N);
  const elements = Math.max(...dora.map((s) => rows(s) * cols(s)));
  const label = mlpRows === N ? `dora scratch (N, ${maxOut})` : `dora scratch (${elements}): (N, out) or (MLP chunk rows, out)`;
  const t = await engine.pool.alloc({ size: 4 * elements, usage, category: 'workspace', label });
  const out = new Map<string, DoraBuffers>();
  for (const s of dora) {
    out.set(s.path, { t, norm: await engine.pool.alloc({ size: 4 * s.outFeatures, usage, category: 'workspace', label: `${s.path} dora norm (${s.outFeatures})` }) });
  }
  return out;
}

/**
 * PEFT's initialisation of the magnitudes: m = ||W||_row, i.e. the norm with B = 0 (as the fresh
 * parameters have it), computed on the GPU from the packed weights and added into m (zero before).
 * Submitted once; the ops' uniform buffers are freed again.
 */
export async function initDoraMagnitudes(
  engine: Engine, state: LoraState, buffers: ReadonlyMap<string, DoraBuffers>, weightOf: (slot: LoraSlot) => ShardedWeight,
  /** the ops that write a module's norm when it is not one ShardedWeight (the LM head's vocabulary chunks) */
  normOf?: (slot: LoraSlot, dora: DoraBuffers) => Promise<PreparedOp[]> | null,
): Promise<void> {
  const ops: PreparedOp[] = [];
  for (const slot of state.layout.slots) {
    const dora = buffers.get(slot.path);
    if (!dora) continue;
    const own = normOf?.(slot, dora);
    ops.push(...(own ? await own : await prepareDoraNorm({ engine, label: `${slot.path} init`, N: 1, slot, params: state.params, weight: weightOf(slot), dora })));
    ops.push(await prepareAccumulate(engine, { y: magnitudeView(state.params, slot), x: dora.norm, n: slot.outFeatures, alpha: 1, label: `${slot.path} dora m = ||W||` }));
  }
  const enc = engine.gpu.device.createCommandEncoder({ label: 'dora init' });
  const pass = enc.beginComputePass({ label: 'dora init' });
  for (const op of ops) op.encode(pass);
  pass.end();
  engine.gpu.device.queue.submit([enc.finish()]);
  for (const op of ops) op.destroy();
}
