/**
 * What the worker's studio holds: the GPU, the stores, the training and generation sessions, and
 * what is loaded. Built once per worker from its dependencies (tests pass their own stores).
 */
import type { GpuLimitsChoice } from '../engine/device';
import type { HubCache } from '../io/model-source/hub/cache';
import { memoryCache } from '../io/model-source/hub/memory-cache';
import { opfsAvailable, opfsCache } from '../io/model-source/hub/opfs-cache';
import { createAdapterStore, type AdapterStore } from '../io/stores/adapters';
import { createCheckpointStore, type CheckpointStore } from '../io/stores/checkpoints';
import { createFullModelStore, type FullModelStore } from '../io/stores/full-models';
import { memoryKv, type Kv } from '../io/stores/kv';
import { createRunInputStore } from '../io/stores/run-inputs';
import { createLastLoadedStore } from '../io/stores/last-loaded';
import { createRunStore, type RunRecord, type RunStore } from '../io/stores/runs';
import { createStorageUsage, type StorageUsage } from '../io/stores/usage';
import type { DatasetOptions } from './api';
import { Estimator } from './estimate';
import { GenerationSession } from './generation';
import { GpuHolder } from './gpu';
import type { LastLoadedKeeper } from './last-loaded';
import { Loaded } from './loaded';
import type { RunInputsStore } from './run-inputs';
import { TrainingSession, type TrainingFaults } from './training';
import { emptyTrash } from './trash';

/** Trash older than this when a studio starts was left by a page that is gone (undo is offered for seconds). */
const TRASH_LEFT_BEHIND_MS = 60_000;

export interface StudioDeps {
  gpu: () => GPU | undefined | Promise<GPU | undefined>;
  /** The adapter's limits (default), or WebGPU's defaults: the page's `?gpu-limits=default`. */
  gpuLimits?: GpuLimitsChoice;
  runs?: RunStore;
  adapters?: AdapterStore;
  /** Fully finetuned models (default: the 'finetune-studio-full-models' IndexedDB database; memory without IndexedDB). */
  fullModels?: FullModelStore;
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
  /** The model and dataset loaded last, offered after a reload (default: the 'finetune-studio-last-loaded' database). */
  lastLoaded?: LastLoadedKeeper;
  /** Sweeps and their queues (default: the 'finetune-studio-sweeps' database; memory without IndexedDB). */
  sweeps?: Kv;
}

export interface StudioState {
  gpu: GpuHolder;
  runs: RunStore;
  adapters: AdapterStore;
  fullModels: FullModelStore;
  checkpoints: CheckpointStore;
  storage: StorageUsage;
  runInputs: RunInputsStore;
  hubCache: HubCache;
  lastLoaded: LastLoadedKeeper;
  estimator: Estimator;
  training: TrainingSession;
  generation: GenerationSession;
  loaded: Loaded;
  /**
   * Settles once runs left live by a page that went away are marked interrupted (this worker is
   * new, so none is ours) and what such a page left in the trash is deleted.
   */
  ready: Promise<RunRecord[]>;
}

export function createStudioState(deps: StudioDeps): StudioState {
  const gpu = new GpuHolder(deps.gpu, deps.gpuLimits);
  const runs = deps.runs ?? createRunStore();
  const adapters = deps.adapters ?? createAdapterStore();
  const checkpoints = deps.checkpoints ?? createCheckpointStore();
  const fullModels = deps.fullModels ?? createFullModelStore(typeof indexedDB === 'undefined' ? memoryKv() : undefined);
  const generation = new GenerationSession({ gpu: () => gpu.get(), adapters, fullModels });
  const runInputs = deps.runInputs ?? createRunInputStore<DatasetOptions>(typeof indexedDB === 'undefined' ? memoryKv() : undefined);
  // What a closed page left in the trash (its undo offer ended with it); another open tab's recent deletes stay undoable.
  const trashLeftBehind = emptyTrash({ runs, adapters, fullModels, checkpoints, runInputs, generation }, TRASH_LEFT_BEHIND_MS).catch(() => undefined);
  return {
    gpu, runs, adapters, fullModels, checkpoints,
    storage: deps.storage ?? createStorageUsage(),
    runInputs,
    hubCache: deps.hubCache ?? (opfsAvailable() ? opfsCache() : memoryCache()),
    lastLoaded: deps.lastLoaded ?? createLastLoadedStore<DatasetOptions>(typeof indexedDB === 'undefined' ? memoryKv() : undefined),
    estimator: new Estimator(),
    training: new TrainingSession({ gpu: () => gpu.get(), runs, adapters, fullModels, checkpoints, faults: deps.faults }),
    generation,
    loaded: new Loaded(() => void generation.reset()),
    ready: trashLeftBehind.then(() => runs.markInterrupted()).catch(() => []),
  };
}
