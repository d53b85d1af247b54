/**
 * LoRA parameters, gradients and optimizer state: one flat f32 vector each, laid out by
 * `loraLayout` (every tensor 256-byte aligned so kernels bind it as a sub-range), held on the GPU
 * in chunks that each fit one binding (`loraChunks`: cut only where a tensor starts, so a tensor's
 * view lies in one chunk). One chunk (the usual case) means one optimizer dispatch and one
 * gradient-norm reduction per step; more chunks, one dispatch each and one reduction over all.
 */
import type { Engine } from '../../engine/context';
import { BufferUsage } from '../../engine/flags';
import type { BufferRef } from '../../engine/kernels/common';
import { readBuffers } from '../../engine/readback';
import { MODULE_NAMES } from '../../config/lora-targets';
import type { LoraLayout, LoraSlot } from '../plan/lora-layout';
import { chunkOf, type LoraChunk } from '../plan/lora-chunks';
import { initLoraA } from '../../core/rng';

/** One flat f32 vector in the layout's order (P), on the GPU in chunks. */
export interface FlatVector {
  chunks: readonly LoraChunk[];
  /** One per chunk: (chunks[i].length) f32, elements [start, start + length) of the vector. */
  buffers: GPUBuffer[];
}

export interface LoraState {
  layout: LoraLayout;
  /** How the flat vectors below are cut (the same for all of them). */
  chunks: readonly LoraChunk[];
  params: FlatVector; //   (P)
  grads: FlatVector; //    (P)
  /** AdamW: m and v (P each); SGD with momentum: the momentum buffer; plain SGD: none. */
  moments: FlatVector[];
  /** (P) early stopping only: the parameters at the best evaluation so far, copied on the GPU. */
  best?: FlatVector;
}

const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC;

/** The whole vector as one chunk (no binding limit to respect). */
export const oneChunk = (layout: LoraLayout): LoraChunk[] => [{ start: 0, length: layout.length }];

/** Allocate one flat vector: `name (P)` as one buffer, `name [start:end]` per chunk when cut. */
export async function allocFlat(
  engine: Engine, chunks: readonly LoraChunk[], category: 'lora' | 'grads' | 'optimizer', name: string, usage = STORAGE,
): Promise<FlatVector> {
  const buffers: GPUBuffer[] = [];
  for (const c of chunks) {
    const label = chunks.length > 1 ? `${name} [${c.start}:${c.start + c.length}]` : `${name} (${c.length})`;
    buffers.push(await engine.pool.alloc({ size: 4 * c.length, usage, category, label }));
  }
  return { chunks, buffers };
}

export async function createLoraState(engine: Engine, layout: LoraLayout, optimizerBuffers: number, chunks: readonly LoraChunk[] = oneChunk(layout)): Promise<LoraState> {
  const params = await allocFlat(engine, chunks, 'lora', 'lora params');
  const grads = await allocFlat(engine, chunks, 'grads', 'lora grads');
  const moments: FlatVector[] = [];
  for (let i = 0; i < optimizerBuffers; i++) moments.push(await allocFlat(engine, chunks, 'optimizer', `optimizer state ${i}`));
  return { layout, chunks, params, grads, moments };
}

/** The vector early stopping keeps the best evaluation's parameters in (P), counted with the adapter's weights. */
export function allocBestLora(engine: Engine, state: LoraState): Promise<FlatVector> {
  return allocFlat(engine, state.chunks, 'lora', 'best lora params');
}

/** Elements [offset, offset + count) of a flat vector as one binding (they must lie in one chunk). */
export function flatView(v: FlatVector, offset: number, count: number): BufferRef {
  const i = chunkOf(v.chunks, offset, count);
  return { buffer: v.buffers[i], offset: 4 * (offset - v.chunks[i].start) };
}

/** Views of one module's A (r, in) and B (out, r) inside a flat vector. */
export function slotViews(v: FlatVector, slot: LoraSlot): { A: BufferRef; B: BufferRef } {
  return { A: flatView(v, slot.offsetA, slot.r * slot.inFeatures), B: flatView(v, slot.offsetB, slot.outFeatures * slot.r) };
}

/** DoRA: the view of one module's magnitude m (out) inside a flat vector. */
export function magnitudeView(v: FlatVector, slot: LoraSlot): BufferRef {
  if (slot.offsetM === undefined) throw new Error(`${slot.path} has no DoRA magnitude (useDora is off)`);
  return flatView(v, slot.offsetM, slot.outFeatures);
}

/** Write a whole flat vector (P values) from the CPU, chunk by chunk. */
export function writeFlat(queue: GPUQueue, v: FlatVector, data: Float32Array): void {
  const P = v.chunks.reduce((n, c) => n + c.length, 0);
  if (data.length !== P) throw new RangeError(`a flat LoRA vector holds ${P} values, got ${data.length}`);
  v.chunks.forEach((c, i) => queue.writeBuffer(v.buffers[i], 0, data.buffer, data.byteOffset + 4 * c.start, 4 * c.length));
}

/** Copy one flat vector into another of the same chunks, on the GPU. */
export function copyFlat(encoder: GPUCommandEncoder, from: FlatVector, to: FlatVector): void {
  from.chunks.forEach((c, i) => encoder.copyBufferToBuffer(from.buffers[i], 0, to.buffers[i], 0, 4 * c.length));
}

/**
 * Read flat vectors back whole: as few readbacks as the device allows (a staging buffer is at most
 * maxBufferSize, so the chunks of a large adapter come back in several).
 */
export async function readFlats(engine: Engine, vectors: readonly FlatVector[]): Promise<Float32Array<ArrayBuffer>[]> {
  const out = vectors.map((v) => new Float32Array(v.chunks.reduce((n, c) => n + c.length, 0)));
  const pending = vectors.flatMap((v, k) => v.chunks.map((c, i) => ({ k, c, buffer: v.buffers[i] })));
  const cap = engine.gpu.limits.maxBufferSize;
  while (pending.length) {
    const batch = [pending.shift()!];
    let bytes = 4 * batch[0].c.length;
    while (pending.length && bytes + 4 * pending[0].c.length <= cap) {
      bytes += 4 * pending[0].c.length;
      batch.push(pending.shift()!);
    }
    const got = await readBuffers(engine.gpu.device, batch.map((p) => ({ buffer: p.buffer, offset: 0, size: 4 * p.c.length })));
    batch.forEach((p, j) => out[p.k].set(new Float32Array(got[j]), p.c.start));
  }
  return out;
}

/** PEFT initialisation from the run seed: A Kaiming-uniform (a = sqrt(5)), B zeros. */
export function initialLoraParams(layout: LoraLayout, seed: number): Float32Array<ArrayBuffer> {
  const flat = new Float32Array(layout.length);
  for (const s of layout.slots) {
    flat.set(initLoraA(seed, s.layer ?? 0, MODULE_NAMES.indexOf(s.module), s.r, s.inFeatures), s.offsetA);
  }
  return flat;
}

/** Flat parameters from given tensors (an imported adapter), keyed by module path. */
export function loraParamsFrom(layout: LoraLayout, tensors: Map<string, { A: Float32Array; B: Float32Array; M?: Float32Array }>): Float32Array<ArrayBuffer> {
  const flat = new Float32Array(layout.length);
  for (const s of layout.slots) {
    const t = tensors.get(s.path);
    if (!t) throw new Error(`adapter has no tensors for ${s.path}`);
    if (t.A.length !== s.r * s.inFeatures || t.B.length !== s.outFeatures * s.r) {
      throw new Error(`adapter tensors of ${s.path} have the wrong size for r = ${s.r}`);
    }
    flat.set(t.A, s.offsetA);
    flat.set(t.B, s.offsetB);
    if (s.offsetM !== undefined) {
      if (t.M?.length !== s.outFeatures) throw new Error(`adapter tensors of ${s.path} have no DoRA magnitude of ${s.outFeatures} values (the run uses DoRA)`);
      flat.set(t.M, s.offsetM);
    }
  }
  return flat;
}

/** Read a flat LoRA vector back and split it per module. */
export async function readLoraTensors(engine: Engine, v: FlatVector, layout: LoraLayout): Promise<Map<string, { A: Float32Array; B: Float32Array; M?: Float32Array }>> {
  const [flat] = await readFlats(engine, [v]);
  const out = new Map<string, { A: Float32Array; B: Float32Array; M?: Float32Array }>();
  for (const s of layout.slots) {
    out.set(s.path, {
      A: flat.slice(s.offsetA, s.offsetA + s.r * s.inFeatures),
      B: flat.slice(s.offsetB, s.offsetB + s.outFeatures * s.r),
      ...(s.offsetM !== undefined ? { M: flat.slice(s.offsetM, s.offsetM + s.outFeatures) } : {}),
    });
  }
  return out;
}
