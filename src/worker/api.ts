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
import type { FullModelMeta } from '../io/stores/full-models';
import type { RunRecord, StepPoint } from '../io/stores/runs';
import type { StorageCategory, StorageReport } from '../io/stores/usage';
import type { EvalProgress, EvalReport, EvalRequest } from './evaluation-types';
import type { SweepCalls } from './sweep-types';
import type { DeviceMemory } from '../engine/pool';
import type { TransferFigures } from '../core/transfer-rate';

export type { AdapterMeta, FullModelMeta, RunRecord, StepPoint, StorageCategory, StorageReport, DeviceMemory, TransferFigures };

/** Where a base model comes from. */
export type ModelSourceSpec =
  | { kind: 'demo' }
  | { kind: 'hub'; repo: string; revision?: string; token?: string; /** The Hub's address (HF_ENDPOINT's convention). */ endpoint?: string;
      /** Keep the token in this browser with the rest of the source, to load it again after a reload (never without this). */ rememberToken?: boolean }
  | { kind: 'files'; files: File[] }
  | { kind: 'url'; base: string; name?: string; /** Keep an address that carries credentials (user:password@, a query). */ rememberToken?: boolean };

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
  /** `transfer`: bytes, rate and time left where the phase moves bytes (the upload of the base model to the GPU). */
  | { type: 'phase'; phase: TrainPhase; message: string; progress?: number; transfer?: TransferFigures }
  | { type: 'step'; point: StepPoint; totalSteps: number }
  /** The validation loss of the starting weights, measured before step 1 (the validation curve starts here). */
  | { type: 'baseline'; evalLoss: number }
  | { type: 'paused' }
  /** After a pause, the loop has reached the boundary before optimizer step `step` (0-based) and holds there: every earlier step is reported. */
  | { type: 'held'; step: number }
  | { type: 'resumed' }
  /** Something the person should know that does not stop the run (e.g. its dataset could not be kept for resuming). */
  | { type: 'warning'; message: string };

export interface TrainResult {
  run: RunRecord;
  adapter?: AdapterMeta;
  /** A full finetuning run's model (kept in the finetuned models library instead of an adapter). */
  fullModel?: FullModelMeta;
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
  /** A fully finetuned model of the library, run in place of the base model (adapterId then null). */
  fullModelId?: string | null;
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
  /** The bundle (src/model/export/bundle.ts): weights, config.json, generation_config.json, tokenizer files, README.md, streamed into a Blob. */
  zip: Blob;
  fileName: string;
  /** The zip's files in order, with their sizes. */
  files: { name: string; bytes: number }[];
  mergedModules: number;
  totalBytes: number;
}

/** A fully finetuned model's download (src/worker/full-models.ts): model.safetensors, config.json, generation_config.json, tokenizer files, README.md. */
export interface FullModelDownload {
  zip: Blob;
  fileName: string;
  /** The zip's files in order, with their sizes. */
  files: { name: string; bytes: number }[];
  totalBytes: number;
}

/** What the GGUF downloads offer (src/model/export/gguf-export.ts). */
export type GgufWhat = 'adapter' | 'merged' | 'base';

export interface GgufDownload {
  /** The .gguf file, streamed into a Blob. */
  gguf: Blob;
  fileName: string;
  bytes: number;
  /** The Ollama Modelfile to put next to it. */
  modelfile: ExportedFile;
  /** An adapter GGUF runs on the base model's GGUF: the name its Modelfile's FROM expects. */
  baseFileName: string | null;
  /** Tensors written in another type than asked (rows that are not whole blocks), and what llama.cpp does differently. */
  warnings: string[];
}

/** A run as a cluster trainer's files (src/io/trainers), zipped. */
export interface TrainerDownload extends ExportedFile {
  files: string[];
  /** The command that starts it. */
  launch: string;
  /** What the trainer cannot express as the studio means it. */
  notes: string[];
}

/** What was loaded last (StudioApi.lastLoaded); a token only when the person asked to keep it. */
export interface LastLoaded {
  model: {
    name: string;
    kind: ModelSourceSpec['kind'];
    /** Whether `loadLast` can load it without the person (picked files cannot; a gated repo needs its token or the cache). */
    canLoad: boolean;
    /** All of a Hub repo's files are in this browser's cache (the demo: always). */
    cached: boolean;
    repo?: string;
    revision?: string;
    endpoint?: string;
    base?: string;
    token?: string;
  } | null;
  dataset: { name: string; bytes: number; /** The file is kept (false: it was too large). */ kept: boolean; options: DatasetOptions } | null;
}

export interface GpuSummary {
  description: string;
  architecture: string;
  f16: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** SweepCalls: the Sweep tab's queue of runs (./sweep-types.ts). */
export interface StudioApi extends SweepCalls<TrainEvent> {
  gpuInfo(): Promise<GpuSummary>;
  /** `remember` (default true): keep it as what was loaded last, offered after a reload (the demo loaded at start is not). */
  loadModel(source: ModelSourceSpec, onProgress?: (p: FileProgress) => void, opts?: { remember?: boolean }): Promise<ModelInfo>;
  loadDataset(file: File, options: DatasetOptions, opts?: { remember?: boolean }): Promise<DatasetSummary>;
  /** The model and dataset the person loaded last in this browser (kept across reloads), to offer them again. */
  lastLoaded(): Promise<LastLoaded>;
  /**
   * Load the last model (a Hub repo from this browser's cache when it is all there: no request)
   * unless it is loaded already, then the last dataset with its options (`options` overrides some,
   * e.g. the run's sequence length). Returns what is loaded and the dataset's file.
   */
  loadLast(options?: Partial<DatasetOptions>, onProgress?: (p: FileProgress) => void): Promise<{ model: ModelInfo | null; dataset: DatasetSummary | null; datasetFile: File | null }>;
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
  /** Delete for good every run, adapter and finetuned model deleted with undo. */
  emptyTrash(): Promise<void>;
  /** PEFT files: one zip, or adapter_model.safetensors and adapter_config.json. */
  exportAdapter(id: string, as: 'zip' | 'files'): Promise<ExportedFile[]>;
  importAdapter(files: File[], name?: string): Promise<AdapterMeta>;
  /**
   * W += sum_i weight_i * scaling_i * B_i A_i into the loaded base model, as a zip that
   * from_pretrained loads: 16-bit weights (sharded above 2 GB), config, generation config, tokenizer files, model card.
   */
  mergeAdapters(parts: { id: string; weight: number }[], dtype: 'F16' | 'BF16', onProgress?: (p: { file: string; bytes: number; totalBytes: number }) => void): Promise<MergedModel>;
  /** Fully finetuned models (runs with method "full"), newest first, without those in the trash. */
  listFullModels(): Promise<FullModelMeta[]>;
  /** Rename a finetuned model and/or change its note. */
  editFullModel(id: string, patch: { name?: string; note?: string }): Promise<FullModelMeta>;
  /** Delete with undo, as for adapters: `restoreFullModel` undoes it, `emptyTrash` (or the next start) deletes it for good. */
  trashFullModel(id: string): Promise<void>;
  restoreFullModel(id: string): Promise<void>;
  deleteFullModel(id: string): Promise<void>;
  /** One zip that from_pretrained loads once unzipped: model.safetensors (F32), config.json, generation_config.json, the tokenizer files and a model card. */
  exportFullModel(id: string): Promise<FullModelDownload>;
  /** A GGUF of a finetuned model itself (f32, f16, q8_0, q4_0, q4_k_m), tokenizer metadata from its own tokenizer files, with its Modelfile. */
  exportFullModelGguf(id: string, type: string, onProgress?: (p: { bytes: number; totalBytes: number }) => void): Promise<GgufDownload>;
  /** A GGUF of an adapter (f32 / f16), of the adapter merged into the loaded model, or of the loaded model (f16, q8_0, q4_0, q4_k_m ...), with its Modelfile. */
  exportGguf(req: { what: GgufWhat; type: string; adapterId?: string }, onProgress?: (p: { bytes: number; totalBytes: number }) => void): Promise<GgufDownload>;
  /** A run as an Axolotl config, a TRL + PEFT script or a torchtune config, with its dataset, zipped. */
  exportTrainer(runId: string, trainer: 'axolotl' | 'trl' | 'torchtune'): Promise<TrainerDownload>;

  /** Destroy the GPU device as a driver reset would (tests, and "release the GPU"). */
  loseDevice(): Promise<void>;
  /**
   * What the GPU device holds now, every pool together (runs, evaluations, the playground) and the
   * readback staging buffers: zero between runs when the playground holds nothing.
   */
  gpuMemory(): Promise<DeviceMemory>;

  /**
   * Score the base model and/or one adapter on a task: a bundled demo set, an uploaded JSONL
   * (multiple choice or exact match) or the loaded dataset's validation split (perplexity).
   * A malformed task file fails with a DatasetError naming the line.
   */
  evaluateTask(req: EvalRequest, onProgress?: (p: EvalProgress) => void): Promise<EvalReport>;
}

export type { EvalProgress, EvalReport, EvalRequest };
export { DEMO_TASKS, type EvalScore, type EvalTaskSource } from './evaluation-types';

/** Re-exported for callers that validate before sending. */
export type { RunConfig };
