import type { ModelConfig } from '../../config/model-config';
import { loraRankAlpha, loraScaling, type LoraConfig } from '../../config/lora-config';
import { moduleShape, type ModuleName } from '../../config/lora-targets';
import { loraModules } from '../../config/param-count';

/**
 * Where each LoRA tensor lives in the one flat f32 parameter buffer (and, at the same offsets, in
 * the gradient and optimizer-state buffers). One flat buffer means one optimizer dispatch and one
 * gradient-norm reduction per step. Each tensor starts on a 256-byte boundary
 * (minStorageBufferOffsetAlignment) so kernels can bind it as a sub-range.
 */
export interface LoraSlot {
  path: string;
  module: ModuleName;
  layer: number | null;
  r: number;
  alpha: number;
  scale: number;
  inFeatures: number;
  outFeatures: number;
  /** Offsets in f32 elements into the flat buffer. */
  offsetA: number; // A (r, in)
  offsetB: number; // B (out, r)
  /** DoRA only: the magnitude m (out), trained like A and B. */
  offsetM?: number;
}

export interface LoraLayout {
  slots: LoraSlot[];
  /** Total f32 elements of the flat buffer, padding included. */
  length: number;
  /** Trainable parameters (padding excluded). */
  params: number;
}

/** 256 bytes = 64 f32. */
export const LORA_ALIGN_ELEMENTS = 64;

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

export function loraLayout(model: ModelConfig, lora: LoraConfig): LoraLayout {
  const slots: LoraSlot[] = [];
  let cursor = 0;
  let params = 0;
  for (const { module, layer, path } of loraModules(model, lora.targetModules)) {
    const { r, alpha } = loraRankAlpha(lora, path);
    const shape = moduleShape(module, model);
    const offsetA = cursor;
    cursor = alignUp(cursor + r * shape.in, LORA_ALIGN_ELEMENTS);
    const offsetB = cursor;
    cursor = alignUp(cursor + shape.out * r, LORA_ALIGN_ELEMENTS);
    params += r * (shape.in + shape.out);
    const slot: LoraSlot = { path, module, layer, r, alpha, scale: loraScaling(r, alpha, lora.useRslora), inFeatures: shape.in, outFeatures: shape.out, offsetA, offsetB };
    if (lora.useDora) {
      slot.offsetM = cursor;
      cursor = alignUp(cursor + shape.out, LORA_ALIGN_ELEMENTS);
      params += shape.out;
    }
    slots.push(slot);
  }
  return { slots, length: Math.max(cursor, LORA_ALIGN_ELEMENTS), params };
}
