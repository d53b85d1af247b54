/**
 * What a GGUF export needs from an opened base model (src/io/model-source): its config, name,
 * tokenizer files, tensor list (from the safetensors headers, no weights read) and tensor loader.
 */
import type { ModelSource } from '../model-source/model';
import type { ModelTokenizer } from '../../data/tokenizer';
import type { HfTensor } from './model-gguf';
import type { TokenizerInputs } from './tokenizer-metadata';

export interface GgufSourceInputs {
  name: string;
  tokenizer: TokenizerInputs;
  /** The studio's tokenizer of the model (the Modelfile's template and stop tokens). */
  modelTokenizer: ModelTokenizer;
  /** Every tensor of the checkpoint, in file order. */
  tensors: HfTensor[];
  /** generation_config.json, when present. */
  generationConfig: Record<string, unknown> | null;
}

/** The name a GGUF calls a model: the last part of its repo id or folder. */
export function modelDisplayName(name: string): string {
  const parts = name.replace(/[\\/]+$/, '').split(/[\\/:]/);
  return parts[parts.length - 1] || name;
}

export async function ggufSourceInputs(model: ModelSource): Promise<GgufSourceInputs> {
  const files = await model.tokenizerFiles();
  const modelTokenizer = await model.tokenizer();
  const index = await model.tensorIndex();
  let generationConfig: Record<string, unknown> | null = null;
  const gen = await model.files.text('generation_config.json');
  if (gen) {
    try {
      const g = JSON.parse(gen) as unknown;
      if (typeof g === 'object' && g !== null && !Array.isArray(g)) generationConfig = g as Record<string, unknown>;
    } catch {
      generationConfig = null; // sampling defaults are optional: an unreadable file only loses them
    }
  }
  return {
    name: modelDisplayName(model.name),
    tokenizer: { tokenizerJson: files.tokenizerJson, tokenizerConfig: files.tokenizerConfig, tokenizer: modelTokenizer },
    modelTokenizer,
    tensors: [...index].map(([name, t]) => ({ name, shape: t.shape })),
    generationConfig,
  };
}
