/**
 * What the studio's Evaluate panel asks the worker and gets back: a task (bundled with the demo,
 * uploaded, or the loaded dataset's validation split), the base model and/or one adapter, and the
 * scores side by side. Structured-cloneable; the worker side is ./evaluation.ts.
 */

/** The task sets bundled with the demo (public/demo/tasks/), with what each shows. */
export const DEMO_TASKS = [
  { file: 'demo-tell-ask-shout-mc.jsonl', title: 'Tell, ask or shout (held-out sentences), multiple choice', kind: 'mc' },
  { file: 'demo-tell-ask-shout-exact.jsonl', title: 'Tell, ask or shout (held-out sentences), exact answer', kind: 'exact' },
  { file: 'demo-english-mc.jsonl', title: 'English next word, multiple choice (should not get worse)', kind: 'mc' },
] as const;

export type EvalKind = 'mc' | 'exact' | 'perplexity';

export type EvalTaskSource =
  | { kind: 'bundled'; file: string }
  /** A task file of the person's: JSONL of multiple-choice or exact-match items. */
  | { kind: 'upload'; file: File }
  /** Perplexity of the loaded dataset's validation split (its loss tokens, as training scores them). */
  | { kind: 'validation' };

export interface EvalRequest {
  task: EvalTaskSource;
  /** Score the base model alone. */
  base: boolean;
  /** Score the base model with this adapter of the library (null: none). */
  adapterId: string | null;
  /** Score this fully finetuned model of the library (its weights in place of the base model's; it must be a finetune of the loaded model). */
  fullModelId?: string | null;
  /** Exact match: greedy tokens per answer at most, and what is ignored when comparing. */
  exact?: { maxNewTokens: number; normalizeWhitespace: boolean; normalizeCase: boolean };
}

export interface EvalScore {
  /** null: the base model alone (or a full model: `fullModelId`). */
  adapterId: string | null;
  /** A fully finetuned model of the library was scored. */
  fullModelId?: string;
  name: string;
  n: number;
  acc?: number;
  acc_norm?: number;
  exact_match?: number;
  perplexity?: number;
  mean_loss?: number;
  seconds: number;
}

export interface EvalReport {
  /** The task's file name (or "validation split of <dataset>"). */
  task: string;
  kind: EvalKind;
  /** Items (or examples) scored. */
  n: number;
  scores: EvalScore[];
}

/** Progress of one evaluation: which model (index of count) and how far it is (rows or items). */
export interface EvalProgress {
  name: string;
  index: number;
  count: number;
  done: number;
  total: number;
}
