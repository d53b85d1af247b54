/**
 * What the three trainer exports share: the input, the studio settings translated once (PEFT
 * module names, base precision as bitsandbytes names it, the schedule as transformers names it,
 * optimizer steps), and the notes for what a trainer cannot reproduce. A note is never dropped:
 * it goes into the file as a comment and into the CLI's output.
 */
import { modulesForTargets, type ModuleName } from '../../config/lora-targets';
import type { ModelConfig } from '../../config/model-config';
import type { RunConfig } from '../../config/run-config';
import type { ExportDataset } from './export-dataset';

export const TRAINERS = ['axolotl', 'trl', 'torchtune'] as const;
export type TrainerName = (typeof TRAINERS)[number];

export interface ModelFacts {
  /** config.json of the base model, when its files are at hand (torchtune's model builder needs the family and size). */
  config?: ModelConfig;
  /** The model folder's *.safetensors files (torchtune's checkpointer lists them). */
  weightFiles?: string[];
  /** `baseModel` is a folder on this machine rather than a Hugging Face Hub id. */
  isLocalPath?: boolean;
}

export interface TrainerExportInput {
  run: RunConfig;
  /** Hugging Face Hub id (org/name) or a folder the training machine can read. */
  baseModel: string;
  model: ModelFacts;
  data: ExportDataset;
  /** A name for the run, in comments and output folders. */
  runName?: string;
}

/** A setting the trainer cannot express as the studio means it, and what the export does instead. */
export interface TrainerNote {
  field: string;
  text: string;
}

export interface TrainerExport {
  trainer: TrainerName;
  /** What the export trains, in one line (LoRA adapter or full finetune): the README and the CLI say it first. */
  summary: string;
  /** File name (relative to the export folder) -> content. */
  files: Record<string, string>;
  notes: TrainerNote[];
  /** The command that starts the run on a multi-GPU machine. */
  launch: string;
}

export const noteText = (n: TrainerNote): string => `${n.field}: ${n.text}`;

/** The PEFT module names the run adapts (the studio's six switches mapped by src/config/lora-targets.ts). */
export function loraModules(run: Pick<RunConfig, 'targets'>): ModuleName[] {
  return modulesForTargets(run.targets);
}

export interface BasePrecision {
  /** How the frozen base weights are loaded. */
  load: '4bit' | '8bit' | '16bit' | '32bit';
  /** torch dtype of the unquantized weights and of bitsandbytes' compute (bnb_4bit_compute_dtype). */
  dtype: 'bfloat16' | 'float16' | 'float32';
  /** NF4 only: bnb_4bit_use_double_quant. */
  doubleQuant: boolean;
}

export function basePrecision(run: Pick<RunConfig, 'basePrecision' | 'doubleQuant'>): BasePrecision {
  switch (run.basePrecision) {
    case 'nf4':
      return { load: '4bit', dtype: 'bfloat16', doubleQuant: run.doubleQuant };
    case 'int8':
      return { load: '8bit', dtype: 'bfloat16', doubleQuant: false };
    case 'bf16':
      return { load: '16bit', dtype: 'bfloat16', doubleQuant: false };
    case 'f16':
      return { load: '16bit', dtype: 'float16', doubleQuant: false };
    case 'f32':
      return { load: '32bit', dtype: 'float32', doubleQuant: false };
  }
}

export interface Schedule {
  /** transformers' names: cosine (to minLrRatio x peak), linear (to 0), constant. */
  kind: 'constant' | 'cosine' | 'linear';
  warmupSteps: number;
  /** Cosine only: the end of the schedule as a fraction of the peak. */
  minLrRatio: number;
}

/** The studio's schedule (src/train/schedule.ts) as the trainers name it; "cosine" has no warmup there. */
export function schedule(run: Pick<RunConfig, 'schedule' | 'warmupSteps' | 'minLrRatio'>): Schedule {
  switch (run.schedule) {
    case 'constant':
      return { kind: 'constant', warmupSteps: 0, minLrRatio: 0 };
    case 'cosine':
      return { kind: 'cosine', warmupSteps: 0, minLrRatio: run.minLrRatio };
    case 'warmup-cosine':
      return { kind: 'cosine', warmupSteps: run.warmupSteps, minLrRatio: run.minLrRatio };
    case 'linear':
      return { kind: 'linear', warmupSteps: run.warmupSteps, minLrRatio: 0 };
  }
}

/** Optimizer steps of the run on one device, as the studio counts them (src/train/trainer.ts totalSteps). */
export function studioSteps(run: Pick<RunConfig, 'maxSteps' | 'epochs' | 'microBatch' | 'gradAccumulation'>, examples: number): { perEpoch: number; total: number } {
  const perEpoch = Math.max(1, Math.ceil(Math.ceil(examples / run.microBatch) / run.gradAccumulation));
  const total = run.maxSteps ?? Math.max(1, Math.ceil((run.epochs * Math.ceil(examples / run.microBatch)) / run.gradAccumulation));
  return { perEpoch, total };
}

/** Full finetuning trains the base weights themselves: only a base held in f32 (or bf16/f16) can be trained, never a quantized one. */
export function assertExportable(run: Pick<RunConfig, 'method' | 'basePrecision'>): void {
  if (run.method === 'full' && (run.basePrecision === 'nf4' || run.basePrecision === 'int8')) {
    throw new RangeError(`full finetuning trains the base weights in f32: set basePrecision to f32 (now ${run.basePrecision}), or choose the LoRA method`);
  }
}

const OPTIMIZER_NAME: Record<RunConfig['optimizer'], string> = { adamw: 'AdamW', sgd: 'SGD', lion: 'Lion', adafactor: 'Adafactor', sophia: 'Sophia' };

/** The line each export starts with: what it trains and what comes out. */
export function methodSummary(run: RunConfig, baseModel: string): string {
  if (run.method === 'full') {
    return `Full finetuning of ${baseModel}: every weight (embedding, norms, attention and MLP weights, biases where the model has them, head) is trained in ${basePrecision(run).dtype} with ${OPTIMIZER_NAME[run.optimizer]}; `
      + 'no adapter, so the LoRA settings (rank, alpha, dropout, targets, patterns) do not apply. The result is a whole model in Hugging Face layout.';
  }
  return `LoRA finetuning of ${baseModel}: a PEFT adapter of rank ${run.rank}, alpha ${run.alpha} on ${loraModules(run).join(', ')} beside the frozen base (${run.basePrecision}).`;
}

/** Notes every trainer shares: what no cluster trainer reproduces exactly. */
export function commonNotes(run: RunConfig): TrainerNote[] {
  const drawn = run.method === 'full' ? 'the data order' : 'LoRA init, dropout masks and data order';
  const notes: TrainerNote[] = [
    { field: 'seed', text: `set to ${run.seed}, but the trainers draw ${drawn} from their own generators: the curve will not match the studio's step for step` },
    { field: 'microBatch / gradAccumulation', text: `per GPU; on N GPUs one optimizer step sees ${run.microBatch} x ${run.gradAccumulation} x N sequences: divide gradient accumulation by N to keep the studio's ${run.microBatch * run.gradAccumulation} per step (the step count changes with N otherwise)` },
    { field: 'vocabChunk', text: 'a memory knob of the studio\'s LM head; the trainers compute the head their own way (nothing to set)' },
  ];
  if (run.checkpointEverySteps === 0) notes.push({ field: 'checkpointEveryMinutes', text: `checkpoints every ${run.checkpointEveryMinutes} min: the trainers save by steps only; they save at the end of each epoch instead` });
  if (run.basePrecision === 'int8') {
    notes.push({ field: 'basePrecision', text: 'int8: bitsandbytes 8-bit is LLM.int8 (per-row absmax with fp16 outlier columns above 6.0), not the studio\'s blockwise-64 absmax int8; the closest there is' });
  }
  if (run.basePrecision !== 'f32') notes.push({ field: 'compute precision', text: `the studio computes in f32 on 16-bit or quantized weights; here the model computes in ${basePrecision(run).dtype}` });
  if (run.earlyStoppingPatience > 0) {
    notes.push({ field: 'earlyStoppingPatience', text: `early stopping after ${run.earlyStoppingPatience} evaluations without improvement${run.earlyStoppingMinDelta ? ` (by more than ${run.earlyStoppingMinDelta})` : ''} is not exported: with transformers, add EarlyStoppingCallback(early_stopping_patience=${run.earlyStoppingPatience}, early_stopping_threshold=${run.earlyStoppingMinDelta}) and load_best_model_at_end=True` });
  }
  if (run.activationPrecision === 'bf16') notes.push({ field: 'activationPrecision', text: 'bf16 saved activations with f32 math is a memory knob of the studio; the trainers keep activations in their compute dtype (nothing to set)' });
  if (run.schedule === 'cosine' && run.warmupSteps > 0) notes.push({ field: 'warmupSteps', text: `the studio's "cosine" schedule has no warmup (it ignores warmupSteps ${run.warmupSteps}); exported without warmup` });
  return notes;
}

/**
 * transformers' Trainer (Axolotl, TRL) leaves biases and norm weights out of weight decay
 * (Trainer.get_decay_parameter_names); the studio decays every weight of a full finetune, as
 * torch.optim over all parameters does. LoRA weights have neither, so this is for full runs only.
 */
export function hfTrainerDecayNote(run: RunConfig): TrainerNote[] {
  if (run.method !== 'full' || run.weightDecay === 0) return [];
  return [{ field: 'weightDecay', text: `transformers' Trainer applies weight decay ${run.weightDecay} to every weight except biases and norm weights (LayerNorm/RMSNorm); the studio's full finetune decays those too` }];
}
