/**
 * The run config being edited: one draft object persisted across reloads (localStorage), checked
 * by the shared zod schema on every change so each field shows its own error, in plain words.
 * Number fields hold the text typed while it is not a number yet, and the error says so. What the
 * form hides does not block a run: the warmup of a schedule without one is left out, a warmup
 * longer than the run is cut to it (and the advice says so).
 */
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { runConfigSchema, type RunConfig, type RunConfigInput } from '../../config/run-config';
import { inPlainWords } from './field-labels';
import { patternErrors } from './lora-patterns';

/**
 * Defaults chosen with the bundled demo (public/demo/README.md, "Finetuning it"): on a CPU without a
 * GPU the first run learns the demo's task within two minutes. A 133k-parameter model learns only
 * with LoRA on every linear layer and the head at a learning rate far above a large model's (the
 * advice box says so for larger models); every demo example fits in 32 tokens.
 */
export const STUDIO_DEFAULTS: RunConfigInput = {
  method: 'lora', rank: 16, alpha: 32, dropout: 0, useRslora: false, targets: ['query', 'key', 'value', 'projection', 'mlp', 'head'], rankPattern: {}, alphaPattern: {},
  basePrecision: 'f32', doubleQuant: false, optimizer: 'adamw', learningRate: 1e-2, betas: [0.9, 0.999], eps: 1e-8,
  weightDecay: 0, momentum: 0.9, nesterov: false, schedule: 'constant', warmupSteps: 0, minLrRatio: 0.1,
  epochs: 1, maxSteps: 100, microBatch: 8, gradAccumulation: 1, maxSeqLen: 32, gradClip: 1, seed: 42,
  evalEvery: 20, logEvery: 1, vocabChunk: 4096, activationCheckpointing: false, activationPrecision: 'f32',
  earlyStoppingPatience: 0, earlyStoppingMinDelta: 0,
  lionBetas: [0.9, 0.99], adafactorDecayRate: -0.8, adafactorClipThreshold: 1, adafactorEps: [1e-30, 1e-3], adafactorBeta1: null,
  adafactorScaleParameter: false, sophiaBetas: [0.965, 0.99], sophiaRho: 0.04, sophiaHessianEvery: 10,
  // Several checkpoints in a demo run: a reload during any run of more than a few seconds can resume.
  checkpointEverySteps: 10, checkpointEveryMinutes: 5,
};

export type Draft = Record<string, unknown>;

export interface Validated {
  config: RunConfig | null;
  /** Field name (e.g. "learningRate", "betas.1") -> message. */
  errors: Record<string, string>;
  /** What the config changes from the draft without refusing it (e.g. a warmup cut to the run's length), as sentences. */
  adjusted: { field: string; text: string }[];
}

interface Issue { code: string; message: string; expected?: unknown; minimum?: unknown; maximum?: unknown; inclusive?: boolean; origin?: string }

const num = (v: unknown) => (typeof v === 'bigint' ? Number(v) : (v as number)).toLocaleString('en-US', { maximumSignificantDigits: 10 });

/** A zod issue as the person reads it: no type names, no identifiers. */
export function friendly(issue: Issue): string {
  const { code, expected } = issue;
  if (code === 'invalid_type' && (expected === 'int' || expected === 'integer')) return 'enter a whole number';
  if (code === 'invalid_type' && expected === 'number') return 'enter a number';
  if (code === 'invalid_type') return 'enter a value';
  if ((code === 'too_small' || code === 'too_big') && issue.origin === 'number') {
    const bound = num(code === 'too_small' ? issue.minimum : issue.maximum);
    if (code === 'too_small') return issue.inclusive === false ? `must be more than ${bound}` : `must be at least ${bound}`;
    return issue.inclusive === false ? `must be less than ${bound}` : `must be at most ${bound}`;
  }
  if (code === 'invalid_value' || code === 'invalid_enum_value') return 'choose one of the options';
  if (/^(Too small|Too big|Invalid input)/.test(issue.message) && code !== 'custom') return 'enter a valid value';
  return inPlainWords(issue.message);
}

/** The config a run gets from the draft: fields the chosen options leave out do not block it. */
export function forRun(draft: Draft): { input: Draft; adjusted: Validated['adjusted'] } {
  const input = { ...draft };
  const adjusted: Validated['adjusted'] = [];
  const warmup = Number(draft.warmupSteps);
  if (draft.schedule === 'constant' || draft.schedule === 'cosine') {
    if (Number.isFinite(warmup) || draft.warmupSteps === '') input.warmupSteps = 0; // the form hides it: these schedules have no warmup
  } else if (Number.isInteger(warmup) && typeof draft.maxSteps === 'number' && Number.isInteger(draft.maxSteps) && draft.maxSteps > 0 && warmup > draft.maxSteps) {
    input.warmupSteps = draft.maxSteps;
    adjusted.push({ field: 'warmupSteps', text: `Warmup (${warmup} steps) is longer than the run (${draft.maxSteps} steps): the learning rate rises over the whole run and never decays.` });
  }
  return { input, adjusted };
}

export function validate(draft: Draft): Validated {
  const { input, adjusted } = forRun(draft);
  const errors: Record<string, string> = {};
  const r = runConfigSchema.safeParse(input);
  if (!r.success) {
    for (const i of r.error.issues) {
      const key = i.path.join('.') || 'config';
      errors[key] ??= friendly(i as unknown as Issue);
    }
  }
  // Per-layer patterns are regular expressions: one that does not compile would fail the run.
  for (const field of ['rankPattern', 'alphaPattern'] as const) {
    const bad = patternErrors(input[field]);
    if (bad.length && !errors[field]) errors[field] = bad.join('; ');
  }
  return { config: r.success && Object.keys(errors).length === 0 ? r.data : null, errors, adjusted };
}

interface RunConfigState {
  draft: Draft;
  set(field: string, value: unknown): void;
  patch(values: Draft): void;
  reset(): void;
}

export const useRunConfig = create<RunConfigState>()(
  persist(
    (set) => ({
      draft: { ...STUDIO_DEFAULTS },
      set: (field, value) => set((s) => {
        const draft = { ...s.draft };
        if (value === undefined) delete draft[field];
        else draft[field] = value;
        return { draft };
      }),
      patch: (values) => set((s) => ({ draft: { ...s.draft, ...values } })),
      reset: () => set({ draft: { ...STUDIO_DEFAULTS } }),
    }),
    {
      name: 'finetune-studio:run-config',
      version: 1,
      partialize: (s) => ({ draft: s.draft }),
      // Fields the schema no longer has are dropped; new ones get their defaults.
      merge: (persisted, current) => {
        const saved = ((persisted as { draft?: Draft } | undefined)?.draft ?? {}) as Draft;
        const known = Object.keys(runConfigSchema.shape);
        const draft: Draft = { ...STUDIO_DEFAULTS };
        for (const k of known) if (k in saved) draft[k] = saved[k];
        if (!('maxSteps' in saved) && 'epochs' in saved) delete draft.maxSteps;
        return { ...current, draft };
      },
    },
  ),
);

/** The validated draft; recomputed only when the draft changes. */
let last: { draft: Draft; v: Validated } | null = null;
export function useValidatedConfig(): Validated {
  const draft = useRunConfig((s) => s.draft);
  if (!last || last.draft !== draft) last = { draft, v: validate(draft) };
  return last.v;
}
