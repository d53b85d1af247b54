/**
 * The fully finetuned model as Hugging Face files: model.safetensors (every trained weight in F32,
 * under its Hugging Face name; a tied head is the embedding, as transformers saves it) and the base
 * model's config.json with torch_dtype float32. Read back from the training graph's parameters.
 * The studio keeps them (src/io/stores/full-models.ts) and downloads them as one zip with the
 * tokenizer and a model card (`writeFullModelBundle`).
 */
import { BadFileError } from '../../core/errors';
import type { Engine } from '../../engine/context';
import { modelCard, type ModelCardInput } from '../../io/model-card';
import { writeSafetensors } from '../../io/safetensors/writer';
import type { ByteSink } from '../../io/safetensors/stream';
import { ZipStream } from '../../io/zip/zip-stream';
import type { BundleResult } from './bundle';
import { readFullTensors, type FullState } from '../graph/full-state';

/** model.safetensors of the trained weights (`params`: another vector of the same pieces, e.g. early stopping's best) (in memory: meant for the models the browser trains whole). */
export async function fullModelSafetensors(engine: Engine, full: FullState, params = full.state.params): Promise<Uint8Array> {
  const tensors = await readFullTensors(engine, full, params);
  return writeSafetensors([...tensors].map(([name, t]) => ({ name, dtype: 'F32', shape: t.shape, data: t.data })), { format: 'pt' });
}

/** config.json of the finetuned model: the base's, stored as float32 (the weights are written in F32). */
export function fullModelConfigJson(baseConfig: Record<string, unknown>): string {
  return JSON.stringify({ ...baseConfig, torch_dtype: 'float32' }, null, 2);
}

export interface FullModelBundleOptions {
  /** model.safetensors as stored. */
  weights: Uint8Array;
  configJson: string;
  generationConfigJson: string;
  /** The base model's tokenizer files (tokenizer.json among them). */
  tokenizer: readonly { name: string; bytes: Uint8Array }[];
  /** The card's text fields (title, base model, run, note). */
  card: Omit<ModelCardInput, 'kind' | 'files' | 'merge' | 'lora'>;
  sink: ByteSink;
}

/**
 * The fully finetuned model as one zip that `AutoModelForCausalLM.from_pretrained` loads once
 * unzipped: README.md (the card), config.json, generation_config.json, the tokenizer files, then
 * model.safetensors (the order of the merged bundle, src/model/export/bundle.ts).
 */
export async function writeFullModelBundle(o: FullModelBundleOptions): Promise<BundleResult> {
  if (!o.tokenizer.some((f) => f.name === 'tokenizer.json')) {
    throw new BadFileError('tokenizer.json', 'is missing: the finetuned model\'s download needs its base model\'s tokenizer to load on its own');
  }
  const files = ['README.md', 'config.json', 'generation_config.json', ...o.tokenizer.map((f) => f.name), 'model.safetensors'];
  const zip = new ZipStream(o.sink);
  await zip.add('README.md', modelCard({ ...o.card, kind: 'full', files }));
  await zip.add('config.json', o.configJson);
  await zip.add('generation_config.json', o.generationConfigJson);
  for (const f of o.tokenizer) await zip.add(f.name, f.bytes);
  await zip.add('model.safetensors', o.weights);
  return { files: zip.files, totalBytes: await zip.end() };
}
