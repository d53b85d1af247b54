// Node only (CLI): a Hugging Face model folder on disk — config.json and model.safetensors, or
// shards listed in model.safetensors.index.json. Tensors are read one at a time, on demand.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseModelConfig, type ModelConfig } from '../model/config';
import { BadFileError } from './errors';
import { fileSource } from './node-file-source';
import { openSafetensors, type SafetensorsFile } from './safetensors';

export interface ModelDir {
  config: ModelConfig;
  /** Repo id or folder, for `base_model_name_or_path`. */
  name: string;
  load(name: string): Promise<Float32Array<ArrayBuffer>>;
  close(): Promise<void>;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new BadFileError(path, `file is missing; ${what}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadFileError(path, `file is not valid JSON (${(e as Error).message})`);
  }
}

async function exists(path: string): Promise<boolean> {
  return readFile(path).then(() => true, () => false);
}

export async function openModelDir(dir: string): Promise<ModelDir> {
  const config = parseModelConfig(await readJson(join(dir, 'config.json'), 'a model folder needs config.json'));
  const files = new Map<string, { file: SafetensorsFile; close(): Promise<void> }>();
  const openShard = async (name: string) => {
    let f = files.get(name);
    if (!f) {
      const source = await fileSource(join(dir, name)).catch(() => {
        throw new BadFileError(join(dir, name), 'file is missing (a shard of the model); download every shard listed in model.safetensors.index.json');
      });
      f = { file: await openSafetensors(source), close: source.close };
      files.set(name, f);
    }
    return f.file;
  };
  let shardOf: (tensor: string) => string;
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (await exists(indexPath)) {
    const index = (await readJson(indexPath, '')) as { weight_map?: Record<string, string> };
    if (!index.weight_map || typeof index.weight_map !== 'object') throw new BadFileError(indexPath, 'has no "weight_map" object');
    const map = index.weight_map;
    shardOf = (t) => {
      const shard = map[t];
      if (!shard) throw new BadFileError(indexPath, `lists no shard for tensor "${t}"`);
      return shard;
    };
  } else {
    shardOf = () => 'model.safetensors';
  }
  return {
    config,
    name: dir,
    async load(tensor) {
      const file = await openShard(shardOf(tensor));
      if (!file.has(tensor)) throw new BadFileError(join(dir, shardOf(tensor)), `has no tensor "${tensor}"; is this a ${config.modelType} checkpoint in Hugging Face layout?`);
      return (await file.readF32(tensor)) as Float32Array<ArrayBuffer>;
    },
    async close() {
      await Promise.all([...files.values()].map((f) => f.close()));
    },
  };
}
