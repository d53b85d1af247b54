/**
 * The worker's implementation of StudioApi: it holds the loaded model and dataset and wires the
 * calls to src/model, src/train, src/io and the stores. No DOM here; the GPU comes from the
 * `GPU` object passed in (navigator.gpu in the worker).
 */
import * as Comlink from 'comlink';
import { createAdapterStore, type AdapterStore } from '../io/stores/adapters';
import { createRunStore, type RunStore } from '../io/stores/runs';
import { parseRunConfig } from '../train/run-config';
import type { DatasetOptions, GenerateRequest, ModelSourceSpec, StudioApi } from './api';
import { prepareDataset, readDatasetFile, type LoadedDataset } from './dataset';
import { Estimator } from './estimate';
import { GenerationSession } from './generation';
import { GpuHolder } from './gpu';
import { exportAdapter, importAdapter } from './library';
import { mergeAdapters } from './merging';
import { loadModel, type LoadedModel } from './model';
import { TrainingSession } from './training';
import { DatasetError } from '../data/errors';

export interface StudioDeps {
  gpu: () => GPU | undefined | Promise<GPU | undefined>;
  runs?: RunStore;
  adapters?: AdapterStore;
}

export function createStudio(deps: StudioDeps): StudioApi {
  const gpu = new GpuHolder(deps.gpu);
  const runs = deps.runs ?? createRunStore();
  const adapters = deps.adapters ?? createAdapterStore();
  const estimator = new Estimator();
  const training = new TrainingSession({ gpu: () => gpu.get(), runs, adapters });
  const generation = new GenerationSession({ gpu: () => gpu.get(), adapters });
  let model: LoadedModel | null = null;
  let modelKey = '';
  let dataset: LoadedDataset | null = null;
  // Runs left live by a page that went away (this worker is new, so none of them is ours).
  const ready = runs.markInterrupted().catch(() => []);

  const needModel = (what: string): LoadedModel => {
    if (!model) throw new Error(`load a base model before ${what}`);
    return model;
  };
  const needData = (what: string): LoadedDataset => {
    if (!dataset) throw new DatasetError(`load a dataset before ${what}`);
    return dataset;
  };
  const checkVocab = (d: LoadedDataset, m: LoadedModel) => {
    const V = m.config.vocabSize;
    const bad = [...d.train, ...d.validation].find((e) => e.ids.some((id) => id >= V || id < 0));
    if (bad) throw new DatasetError(`${d.name}: token id ${bad.ids.find((id) => id >= V || id < 0)} is outside the model's vocabulary of ${V}; was the data tokenized for another model?`);
  };

  return {
    gpuInfo: () => gpu.summary(),

    async loadModel(source: ModelSourceSpec, onProgress) {
      if (training.busy) throw new Error('a run is training; stop it before loading another model');
      const m = await loadModel(source, (p) => onProgress?.(p));
      model = m;
      modelKey = `${m.info.name}:${Date.now()}`;
      generation.reset();
      if (dataset) {
        // The same file through the new model's tokenizer; dropped when it no longer fits (pre-tokenized ids).
        try {
          const d = prepareDataset(dataset.file, await readDatasetFile(dataset.file, m.config.vocabSize, dataset.options.columns), dataset.options, m.tokenizer);
          checkVocab(d, m);
          dataset = d;
        } catch {
          dataset = null;
        }
      }
      return m.info;
    },

    async loadDataset(file: File, options: DatasetOptions) {
      const m = needModel('a dataset (its tokenizer turns the text into tokens)');
      const parsed = await readDatasetFile(file, m.config.vocabSize, options.columns);
      const d = prepareDataset(file, parsed, options, m.tokenizer);
      checkVocab(d, m);
      dataset = d;
      return d.summary;
    },

    datasetSummary: async () => dataset?.summary ?? null,

    async updateDatasetOptions(options) {
      const m = needModel('changing dataset options');
      const d = needData('changing its options');
      const sameColumns = (options.columns ?? '') === (d.options.columns ?? '');
      const parsed = sameColumns ? d.parsed : await readDatasetFile(d.file, m.config.vocabSize, options.columns);
      dataset = prepareDataset(d.file, parsed, options, m.tokenizer, sameColumns ? d.cache : new Map());
      return dataset.summary;
    },

    async estimate(input) {
      const m = needModel('an estimate');
      const run = parseRunConfig(input);
      const g = await gpu.get();
      return estimator.estimate(m.config, modelKey, run, dataset?.train ?? null, g);
    },

    async startTraining(input, onEvent, options) {
      await ready;
      const run = parseRunConfig(input);
      const m = needModel('training');
      const d = needData('training');
      generation.reset(); // the playground's copy of the model gives its GPU memory to the run
      return training.start(run, m, d, onEvent, options);
    },
    pause: async () => training.pause(),
    resume: async () => training.resume(),
    stop: async () => training.stop(),

    async generate(req: GenerateRequest, onText) {
      const m = needModel('generating');
      const ids = dataset ? dataset.promptIds(req.prompt, req.useTemplate) : m.tokenizer.encode(req.prompt, { addSpecialTokens: true });
      return generation.generate(m, ids, req, onText);
    },
    stopGenerating: async () => generation.stop(),

    listRuns: async () => { await ready; return runs.list(); },
    runPoints: (id) => runs.points(id),
    deleteRun: (id) => runs.delete(id),

    listAdapters: () => adapters.list(),
    deleteAdapter: async (id) => { await adapters.delete(id); generation.forget(id); },
    renameAdapter: (id, name) => adapters.rename(id, name),
    async exportAdapter(id, as) {
      const files = await exportAdapter(adapters, id, as);
      return Comlink.transfer(files, files.map((f) => f.bytes.buffer as ArrayBuffer));
    },
    importAdapter: (files, name) => importAdapter(adapters, files, model?.config ?? null, name),
    async mergeAdapters(parts, dtype) {
      const m = needModel('merging (the adapters are merged into the loaded base model)');
      return mergeAdapters(m, adapters, parts, dtype);
    },

    async loseDevice() {
      await gpu.destroy();
    },
  };
}
