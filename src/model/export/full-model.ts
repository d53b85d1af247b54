/**
 * The fully finetuned model as Hugging Face files: model.safetensors (every trained weight in F32,
 * under its Hugging Face name; a tied head is the embedding, as transformers saves it) and the base
 * model's config.json with torch_dtype float32. Read back from the training graph's parameters.
 */
import type { Engine } from '../../engine/context';
import { writeSafetensors } from '../../io/safetensors/writer';
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
