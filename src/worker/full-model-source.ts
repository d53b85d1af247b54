/**
 * A stored fully finetuned model as a model folder (src/io/model-source's ModelFiles), read in
 * place and never copied: config.json, generation_config.json, model.safetensors and the tokenizer
 * files kept with it. Whatever opens a base model (evaluation's loader, the playground's decoder,
 * the GGUF writer) opens a finetuned model the same way, every tensor checked against config.json.
 */
import { BadFileError } from '../core/errors';
import type { ModelFiles } from '../io/model-source/types';
import { bytesSource } from '../io/safetensors';
import type { FullModelFiles, FullModelMeta } from '../io/stores/full-models';
import { tokenizerFiles } from '../model/export/bundle';
import type { LoadedModel } from './model';

type StoredFile = FullModelFiles['tokenizer'][number];

/**
 * The model's files as a folder named `name`. `tokenizer`: the files to serve as its tokenizer
 * (default: those kept with it; see `storedTokenizer` for a model kept without them).
 */
export function storedModelFiles(name: string, f: FullModelFiles, tokenizer: readonly StoredFile[] = f.tokenizer): ModelFiles {
  const texts = new Map([['config.json', f.configJson], ['generation_config.json', f.generationConfigJson]]);
  const binary = new Map(tokenizer.map((t) => [t.name, t.bytes]));
  binary.set('model.safetensors', f.weights);
  const all = [...texts.keys(), ...binary.keys()];
  const describe = (file: string) => `${name}/${file}`;
  return {
    name, location: `the finetuned model "${name}"`,
    describe,
    list: async () => all,
    has: async (file) => all.includes(file),
    async text(file) {
      const t = texts.get(file);
      if (t !== undefined) return t;
      const b = binary.get(file);
      return b && file !== 'model.safetensors' ? new TextDecoder().decode(b) : null; // kept as UTF-8 text (tokenizerFiles)
    },
    async bytes(file) {
      const b = binary.get(file);
      if (!b) throw new BadFileError(describe(file), 'is not part of this stored finetuned model');
      return bytesSource(b, describe(file));
    },
    close: async () => undefined,
  };
}

/**
 * The model's tokenizer files: those kept with it, or (a model saved while its base model's
 * tokenizer could not be read) the loaded base model's, which only that base model can give.
 */
export async function storedTokenizer(meta: FullModelMeta, f: FullModelFiles, loaded: LoadedModel | null): Promise<StoredFile[]> {
  if (f.tokenizer.some((t) => t.name === 'tokenizer.json')) return f.tokenizer;
  if (loaded?.info.name !== meta.baseModel) {
    throw new BadFileError(`${meta.name}/tokenizer.json`, `was not kept with the model: load its base model ${meta.baseModel} in Model & data, then try again`);
  }
  return tokenizerFiles(loaded.source.files);
}
