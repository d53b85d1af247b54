/**
 * The LoRA adapter a decoder applies: one flat f32 parameter vector laid out by a `LoraLayout`,
 * exactly what a training graph holds (`graph.lora.params` with `graph.layout`, read in place in its
 * chunks, no copy), or values on the CPU (an imported PEFT adapter) that the decoder uploads once.
 */
import { loraScaling } from '../../config/lora-config';
import { moduleShape } from '../../config/lora-targets';
import type { ModelConfig } from '../../config/model-config';
import { loraParamsFrom, type FlatVector } from '../graph/lora-state';
import { LORA_ALIGN_ELEMENTS, type LoraLayout, type LoraSlot } from '../plan/lora-layout';
import type { PeftAdapter } from '../../config/adapter';

export interface DecoderLora {
  layout: LoraLayout;
  /** (layout.length) f32: a GPU vector used in place, or values to upload. */
  params: FlatVector | Float32Array;
}

const alignUp = (n: number) => Math.ceil(n / LORA_ALIGN_ELEMENTS) * LORA_ALIGN_ELEMENTS;

/**
 * The layout of exactly the modules an adapter has tensors for (an adapter saved with
 * layers_to_transform, or a regex target, adapts only some layers), in its tensor order.
 */
export function layoutOfAdapter(model: ModelConfig, adapter: PeftAdapter): LoraLayout {
  const slots: LoraSlot[] = [];
  let cursor = 0;
  let params = 0;
  for (const t of adapter.tensors) {
    const shape = moduleShape(t.module, model);
    if (t.inFeatures !== shape.in || t.outFeatures !== shape.out) {
      throw new RangeError(`adapter module "${t.path}" is [out=${t.outFeatures}, in=${t.inFeatures}] but the model's ${t.module} is ` +
        `[out=${shape.out}, in=${shape.in}]; is this adapter for a different base model?`);
    }
    if (t.layer !== null && t.layer >= model.numLayers) {
      throw new RangeError(`adapter module "${t.path}" is in layer ${t.layer} but the model has ${model.numLayers} layers`);
    }
    const offsetA = cursor;
    cursor = alignUp(cursor + t.r * shape.in);
    const offsetB = cursor;
    cursor = alignUp(cursor + shape.out * t.r);
    params += t.r * (shape.in + shape.out);
    const slot: LoraSlot = {
      path: t.path, module: t.module, layer: t.layer, r: t.r, alpha: t.alpha, scale: loraScaling(t.r, t.alpha, adapter.config.useRslora),
      inFeatures: shape.in, outFeatures: shape.out, offsetA, offsetB,
    };
    if (t.M) { // DoRA's magnitude (out) after B
      slot.offsetM = cursor;
      cursor = alignUp(cursor + shape.out);
      params += shape.out;
    }
    slots.push(slot);
  }
  return { slots, length: Math.max(cursor, LORA_ALIGN_ELEMENTS), params };
}

/** A decoder's LoRA from an imported PEFT adapter (`importPeftAdapter`). */
export function decoderLoraFromPeft(model: ModelConfig, adapter: PeftAdapter): DecoderLora {
  const layout = layoutOfAdapter(model, adapter);
  const params = loraParamsFrom(layout, new Map(adapter.tensors.map((t) => [t.path, { A: t.A, B: t.B, M: t.M }])));
  return { layout, params };
}

/** Throws unless every slot fits the model and the parameters hold the whole layout. */
export function checkDecoderLora(model: ModelConfig, lora: DecoderLora): void {
  const seen = new Set<string>();
  for (const s of lora.layout.slots) {
    const shape = moduleShape(s.module, model);
    if (s.inFeatures !== shape.in || s.outFeatures !== shape.out) {
      throw new RangeError(`LoRA module "${s.path}" is [out=${s.outFeatures}, in=${s.inFeatures}] but the model's ${s.module} is [out=${shape.out}, in=${shape.in}]`);
    }
    if ((s.layer ?? 0) >= model.numLayers) throw new RangeError(`LoRA module "${s.path}" is in layer ${s.layer} but the model has ${model.numLayers} layers`);
    if (seen.has(s.path)) throw new RangeError(`LoRA module "${s.path}" appears twice in the layout`);
    seen.add(s.path);
    if (s.offsetA % LORA_ALIGN_ELEMENTS || s.offsetB % LORA_ALIGN_ELEMENTS) throw new RangeError(`LoRA module "${s.path}": offsets must be multiples of ${LORA_ALIGN_ELEMENTS}`);
    if (s.offsetA + s.r * s.inFeatures > lora.layout.length || s.offsetB + s.outFeatures * s.r > lora.layout.length) {
      throw new RangeError(`LoRA module "${s.path}" runs past the end of the layout (${lora.layout.length} values)`);
    }
  }
  const have = lora.params instanceof Float32Array ? lora.params.length : lora.params.chunks.reduce((n, c) => n + c.length, 0);
  const ok = have === lora.layout.length;
  if (!ok) throw new RangeError(`LoRA parameters hold ${have} values but the layout needs ${lora.layout.length}`);
}
