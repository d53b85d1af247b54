/**
 * Downloads that take a finetune out of the studio, besides the PEFT zip and the merged bundle:
 *
 * - GGUF for llama.cpp / Ollama / LM Studio (src/model/export/gguf-export.ts): the LoRA adapter, the
 *   merged model or the base model, streamed into a Blob, with its Ollama Modelfile;
 * - a run as the files of a cluster trainer (src/io/trainers: Axolotl YAML, TRL script, torchtune
 *   config, each with the dataset as JSONL), in one zip.
 */
import { zipSync } from 'fflate';
import { RunConfigError } from '../config/run-config';
import type { GgufExportType } from '../io/gguf/tensor-types';
import { importPeftAdapter } from '../io/peft';
import { bytesSource } from '../io/safetensors';
import type { AdapterStore } from '../io/stores/adapters';
import type { RunRecord } from '../io/stores/runs';
import { exportForTrainers, noteText, prepareExportDataset, type TrainerName } from '../io/trainers';
import type { GgufWhat } from '../model/export/gguf-export';
import type { GgufDownload, TrainerDownload } from './api';
import type { LoadedDataset } from './dataset';
import { readDatasetFile } from './dataset';
import { ggufBlob } from './gguf-blob';
import { fileStem } from './library';
import type { LoadedModel } from './model';
import type { StoredInputs } from './run-inputs';

export interface GgufRequest {
  what: GgufWhat;
  type: GgufExportType;
  /** The adapter, for `adapter` and `merged`. */
  adapterId?: string;
}

/** A GGUF of the loaded model, an adapter of the library for it, or the two merged, and its Modelfile. */
export async function ggufDownload(
  model: LoadedModel, store: AdapterStore, req: GgufRequest, onProgress?: (p: { bytes: number; totalBytes: number }) => void,
): Promise<GgufDownload> {
  let adapter;
  let stem = fileStem(model.info.name);
  if (req.what !== 'base') {
    if (!req.adapterId) throw new Error(`a ${req.what} GGUF needs an adapter: choose one`);
    const meta = await store.meta(req.adapterId);
    if (!meta) throw new Error(`adapter ${req.adapterId} is not in the library`);
    const files = await store.files(req.adapterId);
    adapter = await importPeftAdapter(bytesSource(files.weights, `${meta.name}/adapter_model.safetensors`), files.configJson, model.config);
    stem = fileStem(meta.name);
  }
  const fileName = `${stem}-${req.what === 'adapter' ? 'lora' : req.what}-${req.type}.gguf`;
  const baseFileName = `${fileStem(model.info.name)}-base-f16.gguf`;
  const blob = await ggufBlob({ model: model.source, adapter, what: req.what, type: req.type, fileName, baseFileName }, onProgress);
  return { ...blob, baseFileName: req.what === 'adapter' ? baseFileName : null };
}

/** Where a run's dataset comes from: its kept copy (for resuming), else the loaded dataset when it is the same file. */
export interface RunDatasetSources {
  kept: StoredInputs | undefined;
  keptFile: (inputs: StoredInputs) => Promise<File | null>;
  loaded: LoadedDataset | null;
}

/** A run (its config, base model and dataset) as one cluster trainer's files, zipped. */
export async function trainerDownload(run: RunRecord, trainer: TrainerName, model: LoadedModel | null, data: RunDatasetSources): Promise<TrainerDownload> {
  const sameModel = model && model.info.name === run.model.name ? model : null;
  let parsed;
  let options;
  const file = data.kept ? await data.keptFile(data.kept) : null;
  if (file && data.kept) {
    options = data.kept.dataset.options;
    parsed = await readDatasetFile(file, sameModel?.config.vocabSize ?? Number.MAX_SAFE_INTEGER, options.columns);
  } else if (data.loaded && data.loaded.name === run.dataset.name) {
    options = data.loaded.options;
    parsed = data.loaded.parsed;
  } else {
    throw new RunConfigError(`the dataset of "${run.name}" (${run.dataset.name}) is not kept with the run and is not the loaded one: load ${run.dataset.name} on the Data tab, then export again`, 'dataset');
  }
  const exported = prepareExportDataset(parsed, {
    template: options.template === 'auto' ? undefined : options.template,
    mask: options.maskPrompt, validationFraction: options.validationFraction, seed: options.seed,
    tokenizer: sameModel?.tokenizer ?? null,
  });
  const runName = fileStem(run.name);
  const [ex] = exportForTrainers({
    run: run.config, baseModel: run.model.name, runName,
    model: { config: sameModel?.config, isLocalPath: run.model.source === 'files' },
    data: exported,
  }, [trainer]);
  const notes = [...exported.notes, ...ex.notes.map(noteText)];
  if (run.model.source === 'demo' || run.model.source === 'url') {
    notes.unshift(`base_model: ${run.model.name} is not a Hugging Face Hub id: put the model's folder (config.json, model.safetensors, tokenizer files) on the training machine and set base_model to its path`);
  }
  const readme = [`# ${run.name} for ${trainer}`, '', ex.summary, '', `Start (in this folder): ${ex.launch}`, '', ...notes.map((n) => `- ${n}`), ''].join('\n');
  const zip = zipSync({ ...Object.fromEntries(Object.entries(ex.files).map(([k, v]) => [k, new TextEncoder().encode(v)])), 'README.md': new TextEncoder().encode(readme) });
  return { name: `${runName}-${trainer}.zip`, bytes: zip, files: [...Object.keys(ex.files), 'README.md'], launch: ex.launch, notes };
}
