/**
 * The Sweep tab's choices as a sweep request: which run-config fields vary and their values
 * (numbers typed as a list, options ticked), alpha tied to rank or fixed, on top of the validated
 * Configure draft. Pure: each field's values are checked by the run config's own schema, and what
 * the sweep changes in the draft (a step limit left out to vary epochs, warmup left out for
 * schedules without one) is said in words.
 */
import type { Target } from '../../../config/lora-targets';
import { runConfigSchema, type RunConfig } from '../../../config/run-config';
import type { SweepAxis, SweepRequest } from '../../../worker/sweep-types';
import { friendly } from '../../stores/run-config';

export type SweepField = 'method' | 'rank' | 'targets' | 'basePrecision' | 'optimizer' | 'learningRate' | 'schedule' | 'epochs' | 'dropout' | 'seed';

export type FieldSpec =
  | { field: SweepField; kind: 'numbers'; integer?: boolean; example: string }
  | { field: SweepField; kind: 'options'; options: readonly (readonly [value: string, label: string])[] };

/** The target sets a sweep compares (the common choices of the LoRA literature). */
export const TARGET_SETS: readonly { id: string; label: string; targets: Target[] }[] = [
  { id: 'qv', label: 'query + value', targets: ['query', 'value'] },
  { id: 'qkv', label: 'query + key + value', targets: ['query', 'key', 'value'] },
  { id: 'attn', label: 'attention (q, k, v, output)', targets: ['query', 'key', 'value', 'projection'] },
  { id: 'all', label: 'all linear layers', targets: ['query', 'key', 'value', 'projection', 'mlp'] },
];

export const SWEEP_FIELDS: readonly FieldSpec[] = [
  { field: 'method', kind: 'options', options: [['lora', 'LoRA'], ['full', 'Full finetuning']] },
  { field: 'rank', kind: 'numbers', integer: true, example: '4, 8, 16' },
  { field: 'targets', kind: 'options', options: TARGET_SETS.map((t) => [t.id, t.label] as const) },
  { field: 'basePrecision', kind: 'options', options: [['nf4', 'NF4 4-bit (QLoRA)'], ['int8', 'int8'], ['f16', 'f16'], ['bf16', 'bf16'], ['f32', 'f32']] },
  { field: 'optimizer', kind: 'options', options: [['adamw', 'AdamW'], ['sgd', 'SGD'], ['lion', 'Lion'], ['adafactor', 'Adafactor'], ['sophia', 'Sophia']] },
  { field: 'learningRate', kind: 'numbers', example: '1e-4, 3e-4, 1e-3' },
  { field: 'schedule', kind: 'options', options: [['constant', 'constant'], ['cosine', 'cosine'], ['warmup-cosine', 'warmup + cosine'], ['linear', 'warmup + linear decay']] },
  { field: 'epochs', kind: 'numbers', example: '1, 2' },
  { field: 'dropout', kind: 'numbers', example: '0, 0.05, 0.1' },
  { field: 'seed', kind: 'numbers', integer: true, example: '1, 2, 3' },
];

/** One field's choice: varied or not, the typed list (numbers) or the ticked options. */
export interface FieldPick {
  on: boolean;
  text: string;
  chosen: string[];
}

export type Picks = Record<SweepField, FieldPick>;

export const emptyPicks = (): Picks => Object.fromEntries(SWEEP_FIELDS.map((f) => [f.field, { on: false, text: '', chosen: [] }])) as unknown as Picks;

export interface SweepChoices {
  picks: Picks;
  /** alpha = 2 x rank for every run, or the draft's alpha for all (only when rank varies). */
  alpha: 'tied' | 'fixed';
}

export interface BuiltSweep {
  request: Pick<SweepRequest, 'base' | 'axes'> | null;
  /** Runs the choices make (the product of the value counts). */
  count: number;
  /** Field -> what is wrong with its values. */
  errors: Partial<Record<SweepField, string>>;
  /** What the sweep changes in the draft, as sentences. */
  notes: string[];
}

/** "4, 8 16;32" -> its numbers; a token that is not a number is named. */
export function parseNumbers(text: string): { values: number[]; bad: string | null } {
  const tokens = text.split(/[\s,;]+/).filter(Boolean);
  const values: number[] = [];
  for (const t of tokens) {
    const v = Number(t);
    if (!Number.isFinite(v)) return { values, bad: t };
    if (!values.includes(v)) values.push(v);
  }
  return { values, bad: null };
}

function fieldValues(spec: FieldSpec, pick: FieldPick): { values: unknown[]; error?: string } {
  if (spec.kind === 'options') {
    const values = spec.field === 'targets'
      ? TARGET_SETS.filter((t) => pick.chosen.includes(t.id)).map((t) => t.targets)
      : spec.options.map(([v]) => v).filter((v) => pick.chosen.includes(v));
    return values.length ? { values } : { values, error: 'tick at least one' };
  }
  const { values, bad } = parseNumbers(pick.text);
  if (bad !== null) return { values, error: `"${bad}" is not a number` };
  if (values.length === 0) return { values, error: `type the values to try, e.g. ${spec.example}` };
  const schema = (runConfigSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean; error?: { issues: unknown[] } } }>)[spec.field];
  for (const v of values) {
    const r = schema.safeParse(v);
    if (!r.success) return { values, error: `${v}: ${friendly(r.error!.issues[0] as Parameters<typeof friendly>[0])}` };
  }
  return { values };
}

/** The sweep the choices describe on top of `config` (the validated Configure draft). */
export function buildSweep(config: RunConfig, choices: SweepChoices): BuiltSweep {
  const axes: SweepAxis[] = [];
  const errors: BuiltSweep['errors'] = {};
  const notes: string[] = [];
  let count = 1;
  for (const spec of SWEEP_FIELDS) {
    const pick = choices.picks[spec.field];
    if (!pick?.on) continue;
    const { values, error } = fieldValues(spec, pick);
    if (error) errors[spec.field] = error;
    else axes.push([spec.field, values]);
    count *= Math.max(1, values.length);
  }
  const base: Record<string, unknown> = { ...config };
  const fields = axes.map(([f]) => f);
  if (fields.includes('rank') && choices.alpha === 'tied') base.alpha = '2x';
  if (fields.includes('epochs') && base.maxSteps !== undefined) {
    delete base.maxSteps;
    notes.push(`Varying epochs: the run length is in epochs, so Configure's step limit (${config.maxSteps} steps) is left out.`);
  }
  // Full finetuning trains the base weights in f32 (and is not DoRA): the sweep's runs are set so, to be comparable.
  const methods = (axes.find(([f]) => f === 'method')?.[1] ?? []) as string[];
  if (methods.includes('full') && config.basePrecision !== 'f32' && !fields.includes('basePrecision')) {
    base.basePrecision = 'f32';
    notes.push(`Varying the method with full finetuning: every run keeps the base weights in f32 (Configure says ${config.basePrecision}), as full finetuning needs.`);
  }
  if (methods.includes('full') && config.useDora) {
    base.useDora = false;
    notes.push('Varying the method with full finetuning: DoRA is left out (it is a LoRA method), so the LoRA runs are plain LoRA.');
  }
  const schedules = (axes.find(([f]) => f === 'schedule')?.[1] ?? []) as string[];
  if (config.warmupSteps > 0 && schedules.some((s) => s === 'constant' || s === 'cosine')) {
    base.warmupSteps = 0;
    notes.push(`Warmup is left out (0 steps instead of ${config.warmupSteps}) in every run: the constant and cosine schedules have none.`);
  }
  if (axes.length === 0 && Object.keys(errors).length === 0) return { request: null, count: 0, errors, notes };
  const ok = Object.keys(errors).length === 0;
  return { request: ok ? { base, axes } : null, count, errors, notes };
}

/** How the start box counts each axis: "2 ranks × 2 target sets". */
const AXIS_NOUNS: Record<SweepField, [one: string, many: string]> = {
  method: ['method', 'methods'],
  rank: ['rank', 'ranks'], targets: ['target set', 'target sets'], basePrecision: ['base precision', 'base precisions'], optimizer: ['optimizer', 'optimizers'],
  learningRate: ['learning rate', 'learning rates'], schedule: ['schedule', 'schedules'], epochs: ['epoch count', 'epoch counts'], dropout: ['dropout', 'dropouts'], seed: ['seed', 'seeds'],
};

/** "2 ranks × 2 target sets". */
export const axesCount = (axes: readonly SweepAxis[]) => axes.map(([f, v]) => `${v.length} ${AXIS_NOUNS[f as SweepField]?.[v.length === 1 ? 0 : 1] ?? f}`).join(' × ');

/** A varying value as the table shows it: a target set by its name, lists joined with +. */
export function showField(field: string, v: unknown): string {
  if (field === 'targets' && Array.isArray(v)) {
    const set = TARGET_SETS.find((t) => t.targets.length === v.length && t.targets.every((x) => v.includes(x)));
    return set ? set.label : v.join(' + ');
  }
  if (Array.isArray(v)) return v.join('+');
  return v === null || v === undefined ? '' : String(v);
}
