import { z } from 'zod';
import { TARGETS } from './lora-targets';

/**
 * Everything a training run needs to know, in one validated object. The UI form, the worker, the
 * CLI (`--config run.json`) and the saved run all use this schema; a field's doc comment is the
 * one-line explanation the Configure panel shows.
 */
export const runConfigSchema = z
  .object({
    /** LoRA trains small adapters beside the frozen model; full finetuning trains every base weight in f32 (about 16 bytes per parameter with AdamW). */
    method: z.enum(['lora', 'full']).default('lora'),
    /** LoRA rank r: the width of the low-rank update. 8-16 is typical; higher learns more and costs more. */
    rank: z.number().int().min(1).max(1024).default(8),
    /** LoRA alpha: the update is scaled by alpha / r (alpha / sqrt(r) with rsLoRA). alpha = 2 x rank is a good default. */
    alpha: z.number().positive().default(16),
    /** Dropout on the LoRA input during training (0 to 0.5). Off at validation. */
    dropout: z.number().min(0).max(0.9).default(0),
    /** rsLoRA: scale by alpha / sqrt(r), which keeps high ranks stable. */
    useRslora: z.boolean().default(false),
    /** DoRA: also learn a magnitude per output row, applied to the normalized direction W + BA (often better than LoRA at low rank; slower). */
    useDora: z.boolean().default(false),
    /** Which projections get a LoRA adapter. "all linear layers" (everything but head) is the strongest common choice. */
    targets: z.array(z.enum(TARGETS)).min(1, 'choose at least one LoRA target').default(['query', 'value']),
    /** Per-module rank overrides (PEFT rank_pattern), e.g. {"model.layers.0.self_attn.q_proj": 16}. */
    rankPattern: z.record(z.string(), z.number().int().min(1).max(1024)).default({}),
    /** Per-module alpha overrides (PEFT alpha_pattern). */
    alphaPattern: z.record(z.string(), z.number().positive()).default({}),
    /** How the frozen base weights are stored on the GPU: NF4 (QLoRA) saves the most memory. */
    basePrecision: z.enum(['nf4', 'int8', 'f16', 'bf16', 'f32']).default('f32'),
    /** NF4 only: quantize the per-block absmax too (saves ~0.37 bits per parameter). */
    doubleQuant: z.boolean().default(false),
    /** AdamW adapts per-parameter step sizes; SGD with momentum uses less memory; Lion keeps one state and steps by signs; Adafactor factors AdamW's second moment into row and column sums; Sophia divides by a diagonal Hessian estimate and clips. */
    optimizer: z.enum(['adamw', 'sgd', 'lion', 'adafactor', 'sophia']).default('adamw'),
    /** Peak learning rate. 1e-4 to 3e-4 is typical for LoRA with AdamW. */
    learningRate: z.number().positive().max(10).default(2e-4),
    /** AdamW beta1 and beta2. */
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
    /** AdamW epsilon. */
    eps: z.number().positive().default(1e-8),
    /** Decoupled weight decay (AdamW) or L2 penalty (SGD). */
    weightDecay: z.number().min(0).default(0),
    /** SGD momentum (0 = plain SGD). */
    momentum: z.number().min(0).lt(1).default(0.9),
    /** SGD Nesterov momentum. */
    nesterov: z.boolean().default(false),
    /** Lion beta1 (mixes momentum and gradient for the update's sign) and beta2 (momentum decay). Lion wants a 3-10x smaller learning rate than AdamW. */
    lionBetas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.99]),
    /** Adafactor: its second moment decays with beta2 = 1 - step^decayRate (-0.8, the paper's). */
    adafactorDecayRate: z.number().min(-1).max(0).default(-0.8),
    /** Adafactor: an update whose RMS exceeds this is scaled down to it (1.0). */
    adafactorClipThreshold: z.number().positive().default(1),
    /** Adafactor eps: added to the squared gradient (1e-30), and the floor of the parameter scale (1e-3). */
    adafactorEps: z.tuple([z.number().positive(), z.number().positive()]).default([1e-30, 1e-3]),
    /** Adafactor first-moment decay; empty keeps no first moment, the memory Adafactor saves. */
    adafactorBeta1: z.number().min(0).lt(1).nullable().default(null),
    /** Adafactor: multiply the learning rate by each tensor's RMS (off: the learning rate is absolute, as transformers' Trainer runs it). */
    adafactorScaleParameter: z.boolean().default(false),
    /** Sophia beta1 (gradient average) and beta2 (Hessian average). */
    sophiaBetas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.965, 0.99]),
    /** Sophia rho: a coordinate moves by the full learning rate once |m| reaches rho x its Hessian estimate (0.01-0.05). */
    sophiaRho: z.number().positive().default(0.04),
    /** Sophia: optimizer steps between two Hessian estimates (each costs one more forward and backward). */
    sophiaHessianEvery: z.number().int().min(1).max(10000).default(10),
    /** How the learning rate moves over the run. */
    schedule: z.enum(['constant', 'cosine', 'warmup-cosine', 'linear']).default('warmup-cosine'),
    /** Steps of linear warmup from 0 to the peak learning rate (warmup + cosine and warmup + linear decay only). */
    warmupSteps: z.number().int().min(0).default(0),
    /** The cosine schedules end at the peak learning rate x this ratio. */
    minLrRatio: z.number().min(0).max(1).default(0),
    /** Passes over the training set. One epoch usually beats several on a static dataset. */
    epochs: z.number().positive().default(1),
    /** Stop after this many optimizer steps (overrides epochs when set). */
    maxSteps: z.number().int().positive().optional(),
    /** Sequences per micro-batch: the biggest memory knob after sequence length. */
    microBatch: z.number().int().min(1).max(1024).default(4),
    /** Micro-batches summed into one optimizer step: a larger effective batch at no extra memory. */
    gradAccumulation: z.number().int().min(1).max(1024).default(1),
    /** Tokens per sequence; longer examples are truncated. */
    maxSeqLen: z.number().int().min(1).max(131072).default(128),
    /** Clip the global gradient norm to this value (0 = no clipping). */
    gradClip: z.number().min(0).default(1),
    /** One seed drives LoRA init, dropout masks and data order: the same seed gives the same curve. */
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(42),
    /** Compute validation loss every N steps (0 = never). */
    evalEvery: z.number().int().min(0).default(0),
    /** Early stopping: stop when the validation loss has not improved for this many evaluations in a row, and keep the adapter of the best one (0 = off). */
    earlyStoppingPatience: z.number().int().min(0).default(0),
    /** How much lower than the best a validation loss must be to count as an improvement (early stopping). */
    earlyStoppingMinDelta: z.number().min(0).default(0),
    /** Read loss and metrics back from the GPU every N steps. */
    logEvery: z.number().int().min(1).default(1),
    /** Vocabulary entries whose logits the LM head computes at once: smaller saves memory, larger takes fewer passes. */
    vocabChunk: z.number().int().min(1).default(4096),
    /**
     * Activation checkpointing: keep only each layer's input from the forward and recompute the
     * layer's forward in the backward. Several times less activation memory for about a third more compute.
     */
    activationCheckpointing: z.boolean().default(false),
    /** Activations kept for the backward stored as bf16 (math stays f32): about half their memory, slightly less exact gradients. */
    activationPrecision: z.enum(['f32', 'bf16']).default('f32'),
    /** Save a resumable checkpoint every N optimizer steps: after a reload, a crash or a lost GPU the run continues from the last one (0 = by time instead). */
    checkpointEverySteps: z.number().int().min(0).default(10),
    /** When checkpoints are not counted in steps (0 steps): save one after this many minutes of training. */
    checkpointEveryMinutes: z.number().positive().default(5),
  })
  .superRefine((c, ctx) => {
    if (c.schedule === 'constant' && c.warmupSteps > 0) {
      ctx.addIssue({ code: 'custom', path: ['warmupSteps'], message: 'warmup needs the warmup-cosine or linear schedule' });
    }
    if (c.maxSteps !== undefined && c.warmupSteps > c.maxSteps) {
      ctx.addIssue({ code: 'custom', path: ['warmupSteps'], message: `warmupSteps (${c.warmupSteps}) exceeds maxSteps (${c.maxSteps})` });
    }
    if (c.earlyStoppingPatience > 0 && c.evalEvery === 0) {
      ctx.addIssue({ code: 'custom', path: ['earlyStoppingPatience'], message: 'early stopping needs validation: set evalEvery above 0' });
    }
    if (c.method === 'full' && c.basePrecision !== 'f32') {
      ctx.addIssue({ code: 'custom', path: ['basePrecision'], message: `full finetuning trains the base weights in f32: set basePrecision to f32 (now ${c.basePrecision})` });
    }
    if (c.method === 'full' && c.optimizer !== 'adamw' && c.optimizer !== 'sgd') {
      ctx.addIssue({ code: 'custom', path: ['optimizer'], message: `full finetuning supports the adamw and sgd optimizers (now ${c.optimizer})` });
    }
    if (c.doubleQuant && c.basePrecision !== 'nf4') {
      ctx.addIssue({ code: 'custom', path: ['doubleQuant'], message: 'double quantization applies to NF4 base weights only' });
    }
    if (c.useDora && c.method === 'full') {
      ctx.addIssue({ code: 'custom', path: ['useDora'], message: 'DoRA is a LoRA method: turn it off for full finetuning' });
    }
  });

export type RunConfig = z.infer<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;
/** How the activations saved for the backward are stored (see src/reference/ops/bf16-store.ts). */
export type ActivationPrecision = RunConfig['activationPrecision'];

/** Validate a partial config (defaults filled in); the error names the field. */
export function parseRunConfig(input: unknown): RunConfig {
  const r = runConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new RunConfigError(`invalid run config — ${issues.join('; ')}`, r.error.issues[0]?.path.join('.') ?? '');
  }
  return r.data;
}

export class RunConfigError extends Error {
  override name = 'RunConfigError';
  constructor(message: string, readonly field: string) {
    super(message);
  }
}
