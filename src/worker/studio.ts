/**
 * The worker's implementation of StudioApi: the state it holds (./studio-state.ts), the training
 * calls (./studio-runs.ts), and here the rest, each a short call into src/model, src/io and the
 * stores. No DOM here; the GPU comes from the `GPU` object passed in (navigator.gpu in the worker).
 */
import * as Comlink from 'comlink';
import { parseRunConfig } from '../config/run-config';
import { deviceMemory } from '../engine/pool';
import type { GenerateRequest, ModelSourceSpec, StudioApi } from './api';
import { exportAdapter, importAdapter } from './library';
import { mergeAdapters } from './merging';
import { exportsApi } from './studio-exports';
import { keepDataset, keepModel, lastLoaded, loadLast } from './last-loaded';
import { loadModel } from './model';
import { runsApi } from './studio-runs';
import { createStudioState, type StudioDeps, type StudioState } from './studio-state';
import { EvaluationSession } from './evaluation';
import { fullModelDownload } from './full-models';
import { sweepApi } from './sweep';
import { createSweepStore } from './sweep-store';
import { deleteAdapterForGood, deleteRunForGood, editRun, emptyTrash } from './trash';

export type { StudioDeps };

export function createStudio(deps: StudioDeps): StudioApi {
  const s = createStudioState(deps);
  return {
    gpuInfo: () => s.gpu.summary(),
    ...modelAndDataApi(s),
    ...runsApi(s),
    ...historyApi(s),
    ...libraryApi(s),
    ...fullModelsApi(s),
    ...exportsApi(s),
    async loseDevice() {
      await s.gpu.destroy();
    },
    gpuMemory: async () => deviceMemory((await s.gpu.get()).device),
    evaluateTask: evaluationApi(s),
    ...sweepApi(s, deps.sweeps ? createSweepStore(deps.sweeps) : undefined),
  };
}

/** The Evaluate panel's call: one session per studio (one evaluation at a time). */
function evaluationApi(s: StudioState): StudioApi['evaluateTask'] {
  const session = new EvaluationSession(s);
  return (req, onProgress) => session.evaluate(req, onProgress);
}

type ModelAndData = 'loadModel' | 'loadDataset' | 'datasetSummary' | 'updateDatasetOptions' | 'lastLoaded' | 'loadLast' | 'estimate' | 'generate' | 'stopGenerating';

function modelAndDataApi(s: StudioState): Pick<StudioApi, ModelAndData> {
  const { loaded } = s;
  /** The loaded dataset is the one kept as loaded last: its new options are kept too. */
  let keptDataset: object | null = null;
  return {
    async loadModel(source: ModelSourceSpec, onProgress, opts) {
      if (s.training.busy) throw new Error('a run is training; stop it before loading another model');
      const m = await loadModel(source, (p) => onProgress?.(p), s.hubCache);
      await loaded.useModel(m, source);
      if (opts?.remember !== false) await keepModel(s.lastLoaded, source, m.info.name);
      return m.info;
    },
    async loadDataset(file, options, opts) {
      const d = await loaded.useDataset(file, options);
      keptDataset = null;
      if (opts?.remember !== false) {
        await keepDataset(s.lastLoaded, d);
        keptDataset = d.file;
      }
      return d.summary;
    },
    datasetSummary: async () => loaded.dataset?.summary ?? null,
    async updateDatasetOptions(options) {
      const summary = await loaded.updateOptions(options);
      if (keptDataset && loaded.dataset?.file === keptDataset) await s.lastLoaded.setDatasetOptions(loaded.dataset.options).catch(() => undefined);
      return summary;
    },
    lastLoaded: () => lastLoaded(s.lastLoaded, s.hubCache),
    async loadLast(options, onProgress) {
      if (s.training.busy) throw new Error('a run is training; stop it before loading another model or dataset');
      const { datasetFile } = await loadLast({ store: s.lastLoaded, hubCache: s.hubCache, loaded }, options ?? {}, (p) => onProgress?.(p));
      keptDataset = datasetFile ? loaded.dataset?.file ?? null : keptDataset;
      return { model: loaded.model?.info ?? null, dataset: loaded.dataset?.summary ?? null, datasetFile };
    },
    async estimate(input) {
      const m = loaded.needModel('an estimate');
      const run = parseRunConfig(input);
      return s.estimator.estimate(m.config, loaded.modelKey, run, loaded.dataset?.train ?? null, await s.gpu.get());
    },
    async generate(req: GenerateRequest, onText) {
      const m = loaded.needModel('generating');
      const d = loaded.dataset;
      const ids = d ? d.promptIds(req.prompt, req.useTemplate) : m.tokenizer.encode(req.prompt, { addSpecialTokens: true });
      return s.generation.generate(m, ids, req, onText);
    },
    stopGenerating: async () => s.generation.stop(),
  };
}

type HistoryCalls = 'listRuns' | 'runPoints' | 'editRun' | 'deleteRun' | 'trashRun' | 'restoreRun' | 'checkpointSteps' | 'emptyTrash' | 'storageReport' | 'deleteStored';

function historyApi(s: StudioState): Pick<StudioApi, HistoryCalls> {
  return {
    listRuns: async () => { await s.ready; return s.runs.list(); },
    runPoints: (id) => s.runs.points(id),
    editRun: (id, patch) => editRun(s, id, patch),
    deleteRun: (id) => deleteRunForGood(s, id),
    trashRun: (id) => s.runs.trash(id),
    restoreRun: (id) => s.runs.restore(id),
    async checkpointSteps() {
      await s.ready;
      const out: Record<string, number> = {};
      for (const c of await s.checkpoints.list()) out[c.runId] = c.step;
      return out;
    },
    emptyTrash: () => emptyTrash(s),
    storageReport: () => s.storage.report(),
    async deleteStored(category, id) {
      if (s.training.busy && category !== 'adapters') throw new Error(`a run is training; stop it before deleting ${category}`);
      if (id === undefined) await s.storage.deleteCategory(category);
      else await s.storage.deleteItem(category, id);
      // A checkpoint without its run cannot be resumed: it goes with the run, and so do the run's kept inputs.
      if (category === 'runs') await (id === undefined ? s.storage.deleteCategory('checkpoints') : s.checkpoints.delete(id));
      if (category === 'runs' || category === 'checkpoints') await (id === undefined ? s.runInputs.clear() : s.runInputs.forget(id));
      if (category === 'adapters' || category === 'finetuned') {
        if (id === undefined) await s.generation.reset();
        else s.generation.forget(id);
      }
    },
  };
}

type FullModelCalls = 'listFullModels' | 'editFullModel' | 'trashFullModel' | 'restoreFullModel' | 'deleteFullModel' | 'exportFullModel';

/** The fully finetuned models library (./full-models.ts): list, rename, delete with undo, download. */
function fullModelsApi(s: StudioState): Pick<StudioApi, FullModelCalls> {
  return {
    listFullModels: () => s.fullModels.list(),
    editFullModel: (id, patch) => s.fullModels.edit(id, patch),
    trashFullModel: async (id) => { await s.fullModels.trash(id); s.generation.forget(id); },
    restoreFullModel: (id) => s.fullModels.restore(id),
    deleteFullModel: async (id) => { await s.fullModels.delete(id); s.generation.forget(id); },
    exportFullModel: (id) => fullModelDownload(s.fullModels, id, (runId) => s.runs.get(runId), s.loaded.model),
  };
}

type LibraryCalls = 'listAdapters' | 'deleteAdapter' | 'renameAdapter' | 'editAdapter' | 'trashAdapter' | 'restoreAdapter' | 'exportAdapter' | 'importAdapter' | 'mergeAdapters';

function libraryApi(s: StudioState): Pick<StudioApi, LibraryCalls> {
  return {
    listAdapters: () => s.adapters.list(),
    deleteAdapter: (id) => deleteAdapterForGood(s, id),
    renameAdapter: (id, name) => s.adapters.rename(id, name),
    editAdapter: (id, patch) => s.adapters.edit(id, patch),
    trashAdapter: async (id) => { await s.adapters.trash(id); s.generation.forget(id); },
    restoreAdapter: (id) => s.adapters.restore(id),
    async exportAdapter(id, as) {
      const files = await exportAdapter(s.adapters, id, as, (runId) => s.runs.get(runId));
      return Comlink.transfer(files, files.map((f) => f.bytes.buffer as ArrayBuffer));
    },
    importAdapter: (files, name) => importAdapter(s.adapters, files, s.loaded.model?.config ?? null, name),
    mergeAdapters: (parts, dtype, onProgress) => mergeAdapters(s.loaded.needModel('merging (the adapters are merged into the loaded base model)'), s.adapters, parts, dtype, (runId) => s.runs.get(runId), onProgress),
  };
}
