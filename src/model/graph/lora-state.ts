/**
 * LoRA parameters, gradients and optimizer state: one flat f32 buffer each, laid out by
 * `loraLayout` (every tensor 256-byte aligned so kernels bind it as a sub-range). One flat buffer
 * means one optimizer dispatch and one gradient-norm reduction per step.
 */
import type { Engine } from '../../engine/context';
import { BufferUsage } from '../../engine/flags';
import type { BufferRef } from '../../engine/kernels/common';
import { readFloat32 } from '../../engine/readback';
import { MODULE_NAMES } from '../../config/lora-targets';
import type { LoraLayout, LoraSlot } from '../plan/lora-layout';
import { initLoraA } from '../../core/rng';

export interface LoraState {
  layout: LoraLayout;
  params: GPUBuffer; //   (P)
  grads: GPUBuffer; //    (P)
  /** AdamW: m and v (P each); SGD with momentum: the momentum buffer; plain SGD: none. */
  moments: GPUBuffer[];
}

const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC;

export async function createLoraState(engine: Engine, layout: LoraLayout, optimizerBuffers: number): Promise<LoraState> {
  const bytes = 4 * layout.length;
  const alloc = (category: 'lora' | 'grads' | 'optimizer', label: string) =>
    engine.pool.alloc({ size: bytes, usage: STORAGE, category, label });
  const params = await alloc('lora', `lora params (${layout.length})`);
  const grads = await alloc('grads', `lora grads (${layout.length})`);
  const moments: GPUBuffer[] = [];
  for (let i = 0; i < optimizerBuffers; i++) moments.push(await alloc('optimizer', `optimizer state ${i} (${layout.length})`));
  return { layout, params, grads, moments };
}

/** Views of one module's A (r, in) and B (out, r) inside a flat buffer. */
export function slotViews(buffer: GPUBuffer, slot: LoraSlot): { A: BufferRef; B: BufferRef } {
  return { A: { buffer, offset: 4 * slot.offsetA }, B: { buffer, offset: 4 * slot.offsetB } };
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
export function loraParamsFrom(layout: LoraLayout, tensors: Map<string, { A: Float32Array; B: Float32Array }>): Float32Array<ArrayBuffer> {
  const flat = new Float32Array(layout.length);
  for (const s of layout.slots) {
    const t = tensors.get(s.path);
    if (!t) throw new Error(`adapter has no tensors for ${s.path}`);
    if (t.A.length !== s.r * s.inFeatures || t.B.length !== s.outFeatures * s.r) {
      throw new Error(`adapter tensors of ${s.path} have the wrong size for r = ${s.r}`);
    }
    flat.set(t.A, s.offsetA);
    flat.set(t.B, s.offsetB);
  }
  return flat;
}

/** Read a flat LoRA buffer back and split it per module (one readback). */
export async function readLoraTensors(engine: Engine, buffer: GPUBuffer, layout: LoraLayout): Promise<Map<string, { A: Float32Array; B: Float32Array }>> {
  const flat = await readFloat32(engine.gpu.device, buffer, layout.length);
  const out = new Map<string, { A: Float32Array; B: Float32Array }>();
  for (const s of layout.slots) {
    out.set(s.path, {
      A: flat.slice(s.offsetA, s.offsetA + s.r * s.inFeatures),
      B: flat.slice(s.offsetB, s.offsetB + s.outFeatures * s.r),
    });
  }
  return out;
}
