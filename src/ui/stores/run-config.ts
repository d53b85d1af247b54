/**
 * The run config being edited: one draft object persisted across reloads (localStorage), checked
 * by the shared zod schema on every change so each field shows its own error. Number fields hold
 * the text typed while it is not a number yet, and the error says so.
 */
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { runConfigSchema, type RunConfig, type RunConfigInput } from '../../config/run-config';

/** Good defaults for the bundled demo: a run that visibly lowers the loss within two minutes. */
export const STUDIO_DEFAULTS: RunConfigInput = {
  rank: 8, alpha: 16, dropout: 0, useRslora: false, targets: ['query', 'value'], rankPattern: {}, alphaPattern: {},
  basePrecision: 'f32', doubleQuant: false, optimizer: 'adamw', learningRate: 1e-3, betas: [0.9, 0.999], eps: 1e-8,
  weightDecay: 0, momentum: 0.9, nesterov: false, schedule: 'warmup-cosine', warmupSteps: 5, minLrRatio: 0.1,
  epochs: 1, maxSteps: 60, microBatch: 8, gradAccumulation: 1, maxSeqLen: 64, gradClip: 1, seed: 42,
  evalEvery: 10, logEvery: 1, vocabChunk: 4096, activationCheckpointing: false,
};

export type Draft = Record<string, unknown>;

export interface Validated {
  config: RunConfig | null;
  /** Field name (e.g. "learningRate", "betas.1") -> message. */
  errors: Record<string, string>;
}

function friendly(issue: { code: string; message: string; expected?: unknown }): string {
  if (issue.code === 'invalid_type' && issue.expected === 'number') return 'enter a number';
  return issue.message.replace(/^Too (small|big): expected (number|array) to (have|be) /, 'must be ').replace(/^Invalid input: /, '');
}

export function validate(draft: Draft): Validated {
  const r = runConfigSchema.safeParse(draft);
  if (r.success) return { config: r.data, errors: {} };
  const errors: Record<string, string> = {};
  for (const i of r.error.issues) {
    const key = i.path.join('.') || 'config';
    errors[key] ??= friendly(i as never);
  }
  return { config: null, errors };
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
