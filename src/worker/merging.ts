/**
 * Merging adapters into the loaded base model for download: W += sum_i weight_i * scaling_i *
 * B_i A_i (src/model/merge), streamed tensor by tensor into a 16-bit model.safetensors. The
 * output goes into a Blob chunk by chunk (browsers keep large Blobs on disk), never one buffer.
 */
import { bytesSource } from '../io/safetensors';
import { importPeftAdapter } from '../io/peft';
import type { AdapterStore } from '../io/stores/adapters';
import { mergeAdapters as runMerge, type WeightedAdapter } from '../model/merge';
import type { LoadedModel } from './model';

export interface MergedFiles {
  /** model.safetensors */
  weights: Blob;
  /** config.json to go with it (tie_word_embeddings may change). */
  configJson: string;
  mergedModules: number;
}

export async function mergeAdapters(model: LoadedModel, store: AdapterStore, parts: { id: string; weight: number }[], dtype: 'F16' | 'BF16'): Promise<MergedFiles> {
  if (parts.length === 0) throw new Error('choose at least one adapter to merge');
  const adapters: WeightedAdapter[] = [];
  for (const p of parts) {
    if (!Number.isFinite(p.weight)) throw new RangeError(`the merge weight of adapter ${p.id} must be a number`);
    const meta = await store.meta(p.id);
    if (!meta) throw new Error(`adapter ${p.id} is not in the library`);
    const files = await store.files(p.id);
    const adapter = await importPeftAdapter(bytesSource(files.weights, `${meta.name}/adapter_model.safetensors`), files.configJson, model.config);
    adapters.push({ adapter, weight: p.weight, name: meta.name });
  }
  const index = await model.source.tensorIndex();
  const tensors = [...index].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype }));
  const chunks: Blob[] = [];
  const result = await runMerge(
    { configJson: model.source.configJson, tensors, load: model.loader() },
    adapters,
    (chunk) => { chunks.push(new Blob([chunk as Uint8Array<ArrayBuffer>])); }, // Blob copies now: the chunk may be reused
    { dtype },
  );
  return { weights: new Blob(chunks, { type: 'application/octet-stream' }), configJson: result.configJson, mergedModules: result.plan.mergedModules.length };
}
