/**
 * The GPU memory a decoder adds on top of the base weights (KV caches, one chunk of activations,
 * logits, workspace, and the LoRA parameters when they are uploaded rather than shared), by
 * category: the decoder is built against the recording device of src/engine/dry-run.ts, so the
 * figure comes from the code that allocates, byte for byte.
 */
import { CATEGORIES, type Category } from '../../core/memory-categories';
import { createEngine } from '../../engine/context';
import { dryRunGpu } from '../../engine/dry-run';
import type { GpuFeatures, GpuLimits } from '../../engine/device';
import { alignedSize } from '../../engine/pool';
import type { ModelConfig } from '../../config/model-config';
import { maxBindingBytes } from '../graph/dims';
import { allocFlat } from '../graph/lora-state';
import { loraChunks } from '../plan/lora-chunks';
import { createDecoderBase } from './base';
import { createDecoder, type DecoderOptions } from './decoder';
import type { LoraLayout } from '../plan/lora-layout';

export interface DecoderMemory {
  byCategory: Record<Category, number>;
  total: number;
}

/**
 * `lora`: the adapter's layout, and whether its parameters are uploaded by the decoder (an imported
 * adapter) or shared with a training graph (not counted). `vocabChunk` as the base weights were built.
 */
export async function planDecoderMemory(
  model: ModelConfig, lora: { layout: LoraLayout; uploaded: boolean } | null, opts: DecoderOptions & { vocabChunk?: number },
  limits: Partial<GpuLimits> = {}, features: Partial<GpuFeatures> = {},
): Promise<DecoderMemory> {
  const engine = createEngine(dryRunGpu({ ...limits, maxBufferSize: Number.MAX_SAFE_INTEGER, maxStorageBufferBindingSize: Number.MAX_SAFE_INTEGER }, features));
  const cap = maxBindingBytes({ maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize ?? Infinity, maxBufferSize: limits.maxBufferSize ?? Infinity });
  const base = await createDecoderBase(engine, model, { vocabChunk: opts.vocabChunk, maxBindingBytes: cap }); // the head's chunks: one op each
  // The parameters are bound in place here; an uploaded copy is the same chunks again.
  const params = lora ? await allocFlat(engine, loraChunks(lora.layout, cap, base.headChunks[0].rows), 'lora', 'lora params') : null;
  await engine.placeholder(); // engine-wide (16 bytes), not the decoder's
  const before = engine.pool.ledgerSnapshot().current;
  await createDecoder(engine, model, base, lora && params ? { layout: lora.layout, params } : null, { ...opts, maxBindingBytes: cap });
  const after = engine.pool.ledgerSnapshot().current;
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, after[c] - before[c]])) as Record<Category, number>;
  if (lora?.uploaded && params) byCategory.lora += params.buffers.reduce((n, b) => n + alignedSize(b.size), 0);
  return { byCategory, total: Object.values(byCategory).reduce((a, b) => a + b, 0) };
}
