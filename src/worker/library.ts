/**
 * The adapters library seen from the worker: PEFT export (one zip with a model card, or two files),
 * import (checked against the loaded model when there is one), delete and rename. Merging lives in
 * merging.ts.
 */
import { strFromU8, unzipSync } from 'fflate';
import { BadFileError } from '../core/errors';
import { CONFIG_FILE, importPeftAdapter } from '../io/peft';
import { bytesSource } from '../io/safetensors';
import type { AdapterMeta, AdapterStore } from '../io/stores/adapters';
import type { ModelConfig } from '../config/model-config';
import { writeAdapterBundle } from '../model/export/bundle';
import { cardFields, type RunLookup } from './adapter-card';
import type { ExportedFile } from './api';

export const WEIGHTS_FILE = 'adapter_model.safetensors';

/** A file-system-safe stem for download names. */
export function fileStem(name: string): string {
  return name.replace(/[^\w.-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 80) || 'adapter';
}

/** The zip: README.md (the model card, from the adapter's run when it is still in Runs), adapter_config.json, adapter_model.safetensors. */
export async function exportAdapter(store: AdapterStore, id: string, as: 'zip' | 'files', runOf: RunLookup = async () => undefined): Promise<ExportedFile[]> {
  const meta = await store.meta(id);
  if (!meta) throw new Error(`adapter ${id} is not in the library`);
  const { weights, configJson } = await store.files(id);
  if (as === 'files') return [{ name: WEIGHTS_FILE, bytes: weights }, { name: CONFIG_FILE, bytes: new TextEncoder().encode(configJson) }];
  const chunks: Uint8Array[] = [];
  const card = await cardFields(meta, meta.lora, runOf);
  const { totalBytes } = await writeAdapterBundle({ weights, configJson, card, sink: (c) => void chunks.push(c.slice()) });
  const zip = new Uint8Array(totalBytes);
  let at = 0;
  for (const c of chunks) (zip.set(c, at), (at += c.byteLength));
  return [{ name: `${fileStem(meta.name)}.zip`, bytes: zip }];
}

/**
 * adapter_model.safetensors + adapter_config.json given as two files or one zip (folders inside
 * the zip are fine). Validated with the PEFT importer; against the model when one is loaded.
 */
export async function importAdapter(store: AdapterStore, files: File[], model: ModelConfig | null, name?: string): Promise<AdapterMeta> {
  let weights: Uint8Array | null = null;
  let configJson: string | null = null;
  let weightsName = WEIGHTS_FILE;
  for (const f of files) {
    if (f.name.toLowerCase().endsWith('.zip')) {
      let entries: Record<string, Uint8Array>;
      try {
        entries = unzipSync(new Uint8Array(await f.arrayBuffer()));
      } catch (e) {
        throw new BadFileError(f.name, `is not a readable zip (${(e as Error).message})`);
      }
      for (const [path, bytes] of Object.entries(entries)) {
        const base = path.split('/').pop();
        if (base === WEIGHTS_FILE) { weights = bytes; weightsName = `${f.name}/${path}`; }
        if (base === CONFIG_FILE) configJson = strFromU8(bytes);
      }
    } else if (f.name.endsWith('.safetensors')) {
      weights = new Uint8Array(await f.arrayBuffer());
      weightsName = f.name;
    } else if (f.name.endsWith('.json')) {
      configJson = await f.text();
    }
  }
  if (!weights) throw new BadFileError(files.map((f) => f.name).join(', ') || 'import', `no ${WEIGHTS_FILE} among the files; pick it together with ${CONFIG_FILE} (or a zip of both)`);
  if (configJson === null) throw new BadFileError(files.map((f) => f.name).join(', '), `no ${CONFIG_FILE} among the files; PEFT adapters come as ${WEIGHTS_FILE} + ${CONFIG_FILE}`);
  const peft = await importPeftAdapter(bytesSource(weights, weightsName), configJson, model ?? undefined);
  return store.save({
    name: name ?? (files.length === 1 ? files[0].name.replace(/\.zip$/i, '') : `imported ${peft.baseModel || 'adapter'}`),
    baseModel: peft.baseModel, lora: peft.config, origin: 'imported',
    trainableParams: peft.tensors.reduce((n, t) => n + t.A.length + t.B.length, 0),
  }, { weights, configJson });
}

