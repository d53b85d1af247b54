/**
 * The worker's implementation of StudioApi: it holds the loaded model and dataset and wires the
 * calls to src/model, src/train, src/io and the stores. No DOM here; the GPU comes from the
 * `GPU` object passed in (navigator.gpu in the worker).
 */
import * as Comlink from 'comlink';
import { createAdapterStore, type AdapterStore } from '../io/stores/adapters';
import { createRunStore, type RunStore } from '../io/stores/runs';
import { createCheckpointStore, type CheckpointStore } from '../io/stores/checkpoints';
import { parseRunConfig } from '../train/run-config';
import type { DatasetOptions, GenerateRequest, ModelSourceSpec, StudioApi, TrainResult } from './api';
import { prepareDataset, readDatasetFile, type LoadedDataset } from './dataset';
import { Estimator, fitProblems, planOrExplain } from './estimate';
import { OutOfMemoryError } from '../engine/errors';
import { GenerationSession } from './generation';
import { GpuHolder } from './gpu';
import { exportAdapter, importAdapter } from './library';
import { mergeAdapters } from './merging';
import { loadModel, type LoadedModel } from './model';
import { TrainingSession, type TrainingFaults } from './training';
import { DatasetError } from '../data/errors';
import { createStorageUsage, type StorageUsage } from '../io/stores/usage';
import { acquireTrainingLock, broadcastRun, TrainingElsewhereError } from './tab-lock';
import { memoryKv } from '../io/stores/kv';
import { createRunInputStore } from '../io/stores/run-inputs';
import type { HubCache } from '../io/model-source/hub/cache';
import { memoryCache } from '../io/model-source/hub/memory-cache';
import { opfsAvailable, opfsCache } from '../io/model-source/hub/opfs-cache';
import { RunConfigError } from '../train/run-config';
import { datasetMatches, explainReload, keepRunInputs, modelMatches, planInputs, type RunInputsStore } from './run-inputs';
import type { FileProgress } from './api';

export interface StudioDeps {
  gpu: () => GPU | undefined | Promise<GPU | undefined>;
  runs?: RunStore;
  adapters?: AdapterStore;
  /** Resumable checkpoints (default: the 'finetune-studio-checkpoints' IndexedDB database). */
  checkpoints?: CheckpointStore;
  /** Tests only: faults injected into the training loop (e.g. NaN at a chosen step). */
  faults?: TrainingFaults;
  /** What the Storage tab lists and deletes (default: the studio's IndexedDB databases and OPFS cache). */
  storage?: StorageUsage;
  /** How each run's model was loaded and its dataset file, to resume in one click (default: the 'finetune-studio-run-inputs' database). */
  runInputs?: RunInputsStore;
  /** Where Hub downloads are kept (default: OPFS where the browser has it, else memory for this session). */
  hubCache?: HubCache;
}

export function createStudio(deps: StudioDeps): StudioApi {
  const gpu = new GpuHolder(deps.gpu);
  const runs = deps.runs ?? createRunStore();
  const adapters = deps.adapters ?? createAdapterStore();
  const storage = deps.storage ?? createStorageUsage();
  const estimator = new Estimator();
  const checkpoints = deps.checkpoints ?? createCheckpointStore();
  const training = new TrainingSession({ gpu: () => gpu.get(), runs, adapters, checkpoints, faults: deps.faults });
  const generation = new GenerationSession({ gpu: () => gpu.get(), adapters });
  const runInputs = deps.runInputs ?? createRunInputStore<DatasetOptions>(typeof indexedDB === 'undefined' ? memoryKv() : undefined);
  const hubCache = deps.hubCache ?? (opfsAvailable() ? opfsCache() : memoryCache());
  let model: LoadedModel | null = null;
  /** How the loaded model was loaded (kept with each run, without its token). */
  let modelSpec: ModelSourceSpec | null = null;
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
  /** Make `m` the loaded model; the loaded dataset goes through its tokenizer again (dropped when it no longer fits). */
  const useModel = async (m: LoadedModel, spec: ModelSourceSpec) => {
    model = m;
    modelSpec = spec;
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
  };
  const useDataset = async (file: File, options: DatasetOptions, m: LoadedModel) => {
    const d = prepareDataset(file, await readDatasetFile(file, m.config.vocabSize, options.columns), options, m.tokenizer);
    checkVocab(d, m);
    dataset = d;
    return d;
  };

  /**
   * Load the run's kept model and dataset where what is loaded does not match its checkpoint;
   * returns what only the person can load (and whether the run's inputs were kept at all).
   */
  const loadInputs = async (runId: string, onProgress: (p: FileProgress) => void): Promise<{ needs: string[]; field: 'model' | 'dataset'; kept: boolean; name: string; step: number }> => {
    const [record, info, stored] = await Promise.all([runs.get(runId), checkpoints.info(runId), runInputs.get(runId)]);
    if (!record || !info) return { needs: [], field: 'model', kept: false, name: '', step: 0 }; // resuming says why
    const plan = await planInputs({ saved: info.fingerprints, stored, store: runInputs, hubCache, model, dataset });
    if (plan.model) {
      const spec = plan.model.spec;
      const m = await loadModel(spec, onProgress, hubCache).catch((e: unknown) => { throw explainReload(e, spec, record.name, info.step); });
      await useModel(m, spec);
    }
    if (plan.dataset && model) {
      const { file, record: kept } = plan.dataset;
      // A new model re-tokenized the loaded file: it may fit already.
      if (!(await datasetMatches(dataset, info.fingerprints))) {
        onProgress({ file: file.name, loaded: 0, total: file.size, done: false, cached: true });
        await useDataset(file, kept.dataset.options, model);
        onProgress({ file: file.name, loaded: file.size, total: file.size, done: true, cached: true });
      }
    }
    const field = (await modelMatches(model, info.fingerprints)) ? 'dataset' : 'model';
    return { needs: plan.inputs.needs, field, kept: !!stored, name: record.name, step: info.step };
  };

  return {
    gpuInfo: () => gpu.summary(),

    async loadModel(source: ModelSourceSpec, onProgress) {
      if (training.busy) throw new Error('a run is training; stop it before loading another model');
      const m = await loadModel(source, (p) => onProgress?.(p), hubCache);
      await useModel(m, source);
      return m.info;
    },

    async loadDataset(file: File, options: DatasetOptions) {
      const m = needModel('a dataset (its tokenizer turns the text into tokens)');
      return (await useDataset(file, options, m)).summary;
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
      // Refuse what the GPU cannot allocate before anything starts, with the changes that fit.
      const g = await gpu.get();
      const plan = await planOrExplain(m.config, run, g);
      const problems = await fitProblems(m.config, plan, run, g);
      if (problems.length) {
        const cap = Math.min(g.limits.maxBufferSize, g.limits.maxStorageBufferBindingSize);
        const big = plan.buffers.find((b) => b.label === plan.largest.label);
        const err = new OutOfMemoryError(plan.largest.bytes, big?.category ?? 'unknown', plan.largest.label, cap, problems[0]);
        err.message = `this configuration cannot run on this GPU: ${problems[0]}`;
        throw err;
      }
      // One tab trains at a time (Web Locks); the lock is held for the run's whole life.
      const lock = await acquireTrainingLock();
      if (!lock) throw new TrainingElsewhereError();
      const cast = broadcastRun();
      const inputs = keepRunInputs({ store: runInputs, checkpoints, spec: modelSpec, model, dataset }, onEvent);
      let final: TrainResult['run'] | null = null;
      try {
        generation.reset(); // the playground's copy of the model gives its GPU memory to the run
        const result = await training.start(run, m, d, (e) => { cast.event(e); inputs.onEvent(e); }, options);
        final = result.run;
        return result;
      } finally {
        await inputs.end();
        cast.end(final);
        lock.release();
      }
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
    deleteRun: async (id) => { await checkpoints.delete(id); await runs.delete(id); await runInputs.forget(id); },

    async listResumable() {
      await ready;
      const out = [];
      for (const r of (await runs.list()).filter((x) => x.status === 'interrupted')) {
        const c = await checkpoints.info(r.id);
        if (!c) continue;
        const plan = await planInputs({ saved: c.fingerprints, stored: await runInputs.get(r.id), store: runInputs, hubCache, model, dataset });
        out.push({
          run: r, inputs: plan.inputs,
          checkpoint: { step: c.step, totalSteps: c.totalSteps, createdAt: c.createdAt, bytes: c.bytes, model: c.fingerprints.model.name, dataset: c.fingerprints.dataset.name },
        });
      }
      return out;
    },
    async loadRunInputs(runId, onProgress) {
      await ready;
      if (training.busy) throw new Error('a run is training; stop it before loading another model or dataset');
      const { needs } = await loadInputs(runId, (p) => onProgress?.(p));
      return { model: model?.info ?? null, dataset: dataset?.summary ?? null, needs };
    },
    async resumeRun(runId, onEvent) {
      await ready;
      if (training.busy) throw new Error('a run is already training in this tab; stop it before resuming another');
      const lock = await acquireTrainingLock();
      if (!lock) throw new TrainingElsewhereError();
      const cast = broadcastRun();
      let inputs: ReturnType<typeof keepRunInputs> | null = null;
      let final: TrainResult['run'] | null = null;
      try {
        const loading = await loadInputs(runId, (p) => onEvent({
          type: 'phase', phase: 'preparing', message: `Loading ${p.file}${p.cached ? " from this browser's storage" : ''}`,
          ...(p.total ? { progress: Math.min(1, p.loaded / p.total) } : {}),
        }));
        // Kept inputs that need the person: say exactly what to load (else the checks below say it, as ever).
        if (loading.kept && loading.needs.length) {
          throw new RunConfigError(`cannot resume "${loading.name}" from step ${loading.step}: ${loading.needs.join('; ')}; then resume`, loading.field);
        }
        const m = needModel('resuming a run (load the model it was trained on)');
        const d = needData('resuming a run (load the dataset it was trained on)');
        inputs = keepRunInputs({ store: runInputs, checkpoints, spec: modelSpec, model: m, dataset: d }, onEvent);
        generation.reset();
        const result = await training.resumeRun(runId, m, d, (e) => { cast.event(e); inputs!.onEvent(e); });
        final = result.run;
        return result;
      } finally {
        await inputs?.end();
        cast.end(final);
        lock.release();
      }
    },
    discardCheckpoint: async (runId) => { await checkpoints.delete(runId); await runInputs.forget(runId); },

    storageReport: () => storage.report(),
    async deleteStored(category, id) {
      if (training.busy && category !== 'adapters') throw new Error(`a run is training; stop it before deleting ${category}`);
      if (id === undefined) await storage.deleteCategory(category);
      else await storage.deleteItem(category, id);
      // A checkpoint without its run cannot be resumed: it goes with the run, and so do the run's kept inputs.
      if (category === 'runs') await (id === undefined ? storage.deleteCategory('checkpoints') : checkpoints.delete(id));
      if (category === 'runs' || category === 'checkpoints') await (id === undefined ? runInputs.clear() : runInputs.forget(id));
      if (category === 'adapters') {
        if (id === undefined) generation.reset();
        else generation.forget(id);
      }
    },

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
