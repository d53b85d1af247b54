/**
 * Merging adapters into the loaded base model for download: W += sum_i weight_i * scaling_i *
 * B_i A_i (src/model/merge), as a complete bundle (src/model/export/bundle.ts): a zip with the
 * merged weights, config.json, generation_config.json, the base model's tokenizer files and a model
 * card, which from_pretrained loads as it is. The zip goes into a Blob chunk by chunk (browsers keep
 * large Blobs on disk), never one buffer.
 */
import { bytesSource } from '../io/safetensors';
import { importPeftAdapter } from '../io/peft';
import type { AdapterMeta, AdapterStore } from '../io/stores/adapters';
import { writeMergedBundle } from '../model/export/bundle';
import type { WeightedAdapter } from '../model/merge';
import { cardFields, type RunLookup } from './adapter-card';
import type { MergedModel } from './api';
import { fileStem } from './library';
import type { LoadedModel } from './model';

export async function mergeAdapters(
  model: LoadedModel, store: AdapterStore, parts: { id: string; weight: number }[], dtype: 'F16' | 'BF16', runOf: RunLookup,
  onProgress?: (p: { file: string; bytes: number; totalBytes: number }) => void,
): Promise<MergedModel> {
  if (parts.length === 0) throw new Error('choose at least one adapter to merge');
  const adapters: WeightedAdapter[] = [];
  const metas: AdapterMeta[] = [];
  for (const p of parts) {
    if (!Number.isFinite(p.weight)) throw new RangeError(`the merge weight of adapter ${p.id} must be a number`);
    const meta = await store.meta(p.id);
    if (!meta) throw new Error(`adapter ${p.id} is not in the library`);
    const files = await store.files(p.id);
    const adapter = await importPeftAdapter(bytesSource(files.weights, `${meta.name}/adapter_model.safetensors`), files.configJson, model.config);
    adapters.push({ adapter, weight: p.weight, name: meta.name });
    metas.push(meta);
  }
  const card = await cardFields(metas[0], adapters[0].adapter.config, runOf);
  // Several adapters: the card names the merge; a run is stated only when one adapter came from it.
  if (metas.length > 1) Object.assign(card, { title: metas.map((m) => m.name).join(' + '), run: undefined, note: undefined });
  card.baseModel = model.info.name;
  const chunks: Blob[] = [];
  const result = await writeMergedBundle({
    model: model.source, adapters, dtype, card, onProgress,
    sink: (chunk) => { chunks.push(new Blob([chunk as Uint8Array<ArrayBuffer>])); }, // Blob copies now: the chunk may be reused
  });
  return {
    zip: new Blob(chunks, { type: 'application/zip' }),
    fileName: `${fileStem(card.title)}-merged.zip`,
    files: result.files,
    mergedModules: result.mergedModules,
    totalBytes: result.totalBytes,
  };
}
