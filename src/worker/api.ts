/**
 * The typed surface of the training worker, shared by the worker (which implements it) and the
 * page (which calls it through comlink). Everything here is structured-cloneable; callbacks are
 * passed wrapped in `Comlink.proxy`, large byte arrays come back with `Comlink.transfer`.
 */
import type { FileProgress } from '../io/model-source/types';
import { TEMPLATES, type TemplateName } from '../data/templates';
import type { Category } from '../core/memory-categories';
import type { ModelConfig } from '../config/model-config';
import type { RunConfig } from '../config/run-config';
import type { AdapterMeta } from '../io/stores/adapters';
import type { RunRecord, StepPoint } from '../io/stores/runs';
import type { StorageCategory, StorageReport } from '../io/stores/usage';

export type { AdapterMeta, RunRecord, StepPoint, StorageCategory, StorageReport };

/** Where a base model comes from. */
export type ModelSourceSpec =
  | { kind: 'demo' }
  | { kind: 'hub'; repo: string; revision?: string; token?: string; /** The Hub's address (HF_ENDPOINT's convention). */ endpoint?: string }
  | { kind: 'files'; files: File[] }
  | { kind: 'url'; base: string; name?: string };

export type { FileProgress };

export interface ModelInfo {
  name: string;
  source: ModelSourceSpec['kind'];
  config: ModelConfig;
  baseParams: number;
  /** Bytes of the weight files. */
  weightBytes: number;
  tokenizer: { vocabSize: number; bosId: number | null; eosIds: number[]; padId: number; hasChatTemplate: boolean };
}

/** The template a person picks: one of the dataset templates, or 'auto' (the format's default). */
export type TemplateChoice = TemplateName | 'auto';
export const TEMPLATE_CHOICES: readonly TemplateChoice[] = ['auto', ...TEMPLATES];

export interface DatasetOptions {
  template: TemplateChoice;
  /** Leave the prompt out of the loss (instruction and chat data). */
  maskPrompt: boolean;
  /** Examples are truncated to this many tokens. */
  maxSeqLen: number;
  /** Share of examples held out for validation (0 = none), picked by `seed`. */
  validationFraction: number;
  seed: number;
  /** Which fields or CSV columns hold each part, e.g. "instruction=question, output=answer" ('' = by name). */
  columns?: string;
}

/** A stretch of an example's rendered text: `train` false is prompt (masked from the loss). */
export interface PreviewSegment {
  text: string;
  train: boolean;
}

export interface DatasetSummary {
  name: string;
  /** What the file was detected as, e.g. "Alpaca JSONL". */
  format: string;
  /** The template actually used (after "auto"). */
  template: string;
  examples: number;
  train: number;
  validation: number;
  /** Token length of every example, untruncated (the histogram). */
  lengths: number[];
  stats: { tokens: number; min: number; mean: number; p95: number; max: number; truncated: number; lossFraction: number };
  /** The first examples as the model will see them. */
  preview: { segments: PreviewSegment[]; tokens: number }[];
  warnings: string[];
}

export interface Estimate {
  trainableParams: number;
  baseParams: number;
  /** trainable / base, in percent. */
  trainablePercent: number;
  memory: { byCategory: Record<Category, number>; total: number; largest: { label: string; bytes: number } };
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
  /** What stops this config from running on this GPU (empty when it fits). */
  problems: string[];
  examples: number;
  /** Tokens per epoch after truncation, and those that count in the loss. */
  tokensPerEpoch: number;
  lossTokensPerEpoch: number;
  microBatchesPerEpoch: number;
  steps: number;
}

export type TrainPhase = 'preparing' | 'loading-weights' | 'training' | 'saving';

export type TrainEvent =
  /** `resumedFrom`: a run continued from its checkpoint at `step`, with its curve up to there. */
  | { type: 'started'; run: RunRecord; resumedFrom?: { step: number; points: StepPoint[] } }
  /** A checkpoint of the state after `step` steps was saved (or, with `error`, could not be: training goes on). */
  | { type: 'checkpoint'; step: number; error?: string }
  | { type: 'phase'; phase: TrainPhase; message: string; progress?: number }
  | { type: 'step'; point: StepPoint; totalSteps: number }
  /** The validation loss of the starting weights, measured before step 1 (the validation curve starts here). */
  | { type: 'baseline'; evalLoss: number }
  | { type: 'paused' }
  | { type: 'resumed' }
  /** Something the person should know that does not stop the run (e.g. its dataset could not be kept for resuming). */
  | { type: 'warning'; message: string };

export interface TrainResult {
  run: RunRecord;
  adapter?: AdapterMeta;
}

export interface StartOptions {
  /** Start from an adapter of the library (continue training) instead of PEFT's initialisation. */
  initialAdapterId?: string;
  name?: string;
}

/** An interrupted run (reload, crash, lost GPU) that can continue from its last checkpoint. */
export interface ResumableRun {
  run: RunRecord;
  checkpoint: { step: number; totalSteps: number; createdAt: number; bytes: number; model: string; dataset: string };
  inputs: ResumeInputs;
}

/** What resuming a run needs beyond what is loaded now. */
export interface ResumeInputs {
  /** What resuming loads by itself, e.g. "Qwen/Qwen2.5-0.5B from this browser's cache", "train.jsonl" (empty: what is loaded fits). */
  loads: string[];
  /** What only the person can load first, as sentences (empty: resuming takes one click). */
  needs: string[];
}

export interface GenerateRequest {
  prompt: string;
  /** null: the base model alone. */
  adapterId: string | null;
  /** Wrap the prompt in the dataset's template, as in training. */
  useTemplate: boolean;
  maxNewTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
  stopAtEos: boolean;
}

export interface GenerateResult {
  text: string;
  tokens: number;
  tokensPerSecond: number;
  stoppedBy: 'eos' | 'length' | 'stopped';
}

export interface ExportedFile {
  name: string;
  bytes: Uint8Array;
}

export interface MergedModel {
  /** model.safetensors, streamed into a Blob. */
  weights: Blob;
  configJson: string;
  mergedModules: number;
}

export interface GpuSummary {
  description: string;
  architecture: string;
  f16: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export interface StudioApi {
  gpuInfo(): Promise<GpuSummary>;
  loadModel(source: ModelSourceSpec, onProgress?: (p: FileProgress) => void): Promise<ModelInfo>;
  loadDataset(file: File, options: DatasetOptions): Promise<DatasetSummary>;
  /** The loaded dataset's summary (after a model change it is tokenized again, or dropped when it no longer fits). */
  datasetSummary(): Promise<DatasetSummary | null>;
  /** Re-render the loaded dataset with other options (template, masking, split, length). */
  updateDatasetOptions(options: DatasetOptions): Promise<DatasetSummary>;
  estimate(run: unknown): Promise<Estimate>;
  startTraining(run: unknown, onEvent: (e: TrainEvent) => void, options?: StartOptions): Promise<TrainResult>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  /** Interrupted runs with a checkpoint, newest first (runs left live by a page that died count as interrupted). */
  listResumable(): Promise<ResumableRun[]>;
  /**
   * Load what an interrupted run was trained on, where the loaded model or dataset does not match
   * its checkpoint: the model as it was loaded (the demo, or a Hub repo through this browser's
   * cache) and the dataset's kept copy with the run's options. Loads what it can, then returns
   * what is loaded and, in `needs`, what only the person can load (picked files, a gated repo no
   * longer cached, a dataset too large to keep).
   */
  loadRunInputs(runId: string, onProgress?: (p: FileProgress) => void): Promise<{ model: ModelInfo | null; dataset: DatasetSummary | null; needs: string[] }>;
  /**
   * Continue an interrupted run from its last checkpoint (a new GPU device if the last was lost),
   * loading its model and dataset first as `loadRunInputs` does when what is loaded does not match
   * (progress as 'preparing' phases; a RunConfigError names what only the person can load); the
   * adapter lands in the library at the end, as for any run.
   */
  resumeRun(runId: string, onEvent: (e: TrainEvent) => void): Promise<TrainResult>;
  /** Delete a run's checkpoint (the run and its curves stay in Runs). */
  discardCheckpoint(runId: string): Promise<void>;
  generate(req: GenerateRequest, onText: (delta: string) => void): Promise<GenerateResult>;
  stopGenerating(): Promise<void>;

  listRuns(): Promise<RunRecord[]>;
  runPoints(id: string): Promise<StepPoint[]>;
  /** Rename a run and/or change its note (its adapter is renamed too while it still has the run's name). */
  editRun(id: string, patch: { name?: string; note?: string }): Promise<RunRecord>;
  /** Delete a run for good, with its curves, checkpoint and kept inputs. */
  deleteRun(id: string): Promise<void>;
  /** Delete with undo: the run leaves every listing until `restoreRun`; `emptyTrash` (or the next start) deletes it for good. */
  trashRun(id: string): Promise<void>;
  restoreRun(id: string): Promise<void>;
  /** The runs that have a checkpoint to continue from (interrupted or stopped), with the step it holds. */
  checkpointSteps(): Promise<Record<string, number>>;

  /** Bytes stored by category (models cache, adapters, checkpoints, runs) and the browser's quota. */
  storageReport(): Promise<StorageReport>;
  /** Delete one item of a category, or the whole category when `id` is left out. */
  deleteStored(category: StorageCategory, id?: string): Promise<void>;

  listAdapters(): Promise<AdapterMeta[]>;
  deleteAdapter(id: string): Promise<void>;
  renameAdapter(id: string, name: string): Promise<AdapterMeta>;
  /** Rename an adapter and/or change its note. */
  editAdapter(id: string, patch: { name?: string; note?: string }): Promise<AdapterMeta>;
  /** Delete with undo: the adapter leaves every listing until `restoreAdapter`; `emptyTrash` (or the next start) deletes it for good. */
  trashAdapter(id: string): Promise<void>;
  restoreAdapter(id: string): Promise<void>;
  /** Delete for good every run and adapter deleted with undo. */
  emptyTrash(): Promise<void>;
  /** PEFT files: one zip, or adapter_model.safetensors and adapter_config.json. */
  exportAdapter(id: string, as: 'zip' | 'files'): Promise<ExportedFile[]>;
  importAdapter(files: File[], name?: string): Promise<AdapterMeta>;
  /** W += sum_i weight_i * scaling_i * B_i A_i into the loaded base model: a 16-bit model.safetensors and its config.json. */
  mergeAdapters(parts: { id: string; weight: number }[], dtype: 'F16' | 'BF16'): Promise<MergedModel>;

  /** Destroy the GPU device as a driver reset would (tests, and "release the GPU"). */
  loseDevice(): Promise<void>;
}

/** Re-exported for callers that validate before sending. */
export type { RunConfig };
