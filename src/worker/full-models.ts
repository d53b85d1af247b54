/**
 * Fully finetuned models in the worker (runs with `method: "full"`): kept at the end of a run in
 * their own library (src/io/stores/full-models.ts) with everything their download needs, downloaded
 * as one zip that from_pretrained loads (src/model/export/full-model.ts), and opened as a base
 * model (./full-model-source.ts) for evaluation (a sweep scores a full run on its tasks as it scores
 * an adapter), the playground and GGUF.
 */
import type { ModelConfig } from '../config/model-config';
import type { Engine } from '../engine/context';
import { openModel } from '../io/model-source/model';
import type { ModelFiles, TensorLoader } from '../io/model-source/types';
import type { FullModelFiles, FullModelMeta, FullModelStore, NewFullModel } from '../io/stores/full-models';
import { generationConfigText, tokenizerFiles } from '../model/export/bundle';
import { fullModelConfigJson, fullModelSafetensors, writeFullModelBundle } from '../model/export/full-model';
import type { FullState } from '../model/graph/full-state';
import type { LoraState } from '../model/graph/lora-state';
import type { RunLookup } from './adapter-card';
import type { FullModelDownload } from './api';
import { storedModelFiles, storedTokenizer } from './full-model-source';
import { fileStem } from './library';
import type { LoadedModel } from './model';

/**
 * Read the trained weights back (`params`: early stopping's best, else the last step's) and keep
 * them with the base model's config, generation config and tokenizer files. A tokenizer that
 * cannot be read now (a URL gone offline) does not lose the weights: `warn` says so, and the
 * download takes the tokenizer from the base model once it is loaded again.
 */
export async function saveFullModel(
  store: FullModelStore, engine: Engine, full: FullState, model: LoadedModel, meta: NewFullModel,
  params?: LoraState['params'], warn: (message: string) => void = () => {},
): Promise<FullModelMeta> {
  const weights = await fullModelSafetensors(engine, full, params);
  const { tokenizer, generationConfigJson } = await baseFilesOrWarn(model, warn);
  return store.save(meta, { weights, configJson: fullModelConfigJson(model.source.configJson), generationConfigJson, tokenizer });
}

async function baseFilesOrWarn(model: LoadedModel, warn: (message: string) => void): Promise<Pick<FullModelFiles, 'tokenizer' | 'generationConfigJson'>> {
  const files = model.source.files;
  let generationConfigJson: string;
  try {
    generationConfigJson = await generationConfigText(files, model.source.configJson);
  } catch {
    generationConfigJson = await generationConfigText(noFiles(files), model.source.configJson); // derived from config.json alone
  }
  try {
    return { tokenizer: await tokenizerFiles(files), generationConfigJson };
  } catch (e) {
    warn(`The finetuned model is saved, but its base model's tokenizer files could not be read (${(e as Error).message}); its download will take them from ${model.info.name} once it is loaded again.`);
    return { tokenizer: [], generationConfigJson };
  }
}

/** A view of `files` that has none (generationConfigText then derives the file from config.json). */
function noFiles(files: ModelFiles): ModelFiles {
  return { ...files, list: async () => [], has: async () => false, text: async () => null };
}

/**
 * The model's zip: card, config.json, generation_config.json, tokenizer files, model.safetensors,
 * streamed into a Blob. `loaded`: the base model loaded now, for a model kept without its tokenizer.
 */
export async function fullModelDownload(store: FullModelStore, id: string, runOf: RunLookup, loaded: LoadedModel | null): Promise<FullModelDownload> {
  const meta = await store.meta(id);
  if (!meta) throw new Error(`finetuned model ${id} is not in the library (deleted in another tab?)`);
  const files = await store.files(id);
  const tokenizer = await storedTokenizer(meta, files, loaded);
  const run = meta.runId ? await runOf(meta.runId).catch(() => undefined) : undefined;
  const chunks: Blob[] = [];
  const result = await writeFullModelBundle({
    weights: files.weights, configJson: files.configJson, generationConfigJson: files.generationConfigJson, tokenizer,
    card: { title: meta.name, baseModel: meta.baseModel, run, note: meta.note },
    sink: (chunk) => { chunks.push(new Blob([chunk as Uint8Array<ArrayBuffer>])); }, // copied now: the chunk may be reused
  });
  return { zip: new Blob(chunks, { type: 'application/zip' }), fileName: `${fileStem(meta.name)}.zip`, files: result.files, totalBytes: result.totalBytes };
}

/**
 * A stored full model as a base model to evaluate: its config and a streaming loader over its
 * model.safetensors (every tensor checked against config.json as any base model's is). It must be
 * a finetune of the loaded model: the tokenizer and the task's tokens are the loaded model's.
 */
export async function fullModelAsBase(
  store: FullModelStore, id: string, loaded: LoadedModel, purpose: { verb: string; passive: string } = { verb: 'evaluate it', passive: 'evaluated' },
): Promise<{ name: string; config: ModelConfig; load: TensorLoader }> {
  const meta = await store.meta(id);
  if (!meta) throw new RangeError(`finetuned model ${id} is not in the library (was it deleted?)`);
  if (meta.baseModel !== loaded.info.name) {
    throw new RangeError(`"${meta.name}" is a finetune of ${meta.baseModel}, but ${loaded.info.name} is loaded: load ${meta.baseModel} in Model & data to ${purpose.verb}`);
  }
  const files = await store.files(id);
  const source = await openModel(storedModelFiles(meta.name, files));
  if (source.config.vocabSize !== loaded.config.vocabSize || source.config.hiddenSize !== loaded.config.hiddenSize || source.config.numLayers !== loaded.config.numLayers) {
    throw new RangeError(`"${meta.name}" does not have the shape of ${loaded.info.name} (its config.json differs): it cannot be ${purpose.passive} with this model's tokenizer`);
  }
  return { name: meta.name, config: source.config, load: source.loader() };
}
