/**
 * The comparison as files: the selected runs' settings and outcomes as CSV (one row per run, every
 * run-config field a column) and JSON (the records as stored, less nothing), and their curves as
 * CSV in long form (one row per run and logged step; step 0 holds the base model's validation
 * loss). CSV fields are quoted as RFC 4180 says (commas, quotes, line breaks).
 */
import type { RunRecord, StepPoint } from '../../../worker/api';

/** One CSV field: quoted when it holds a comma, a quote or a line break; quotes doubled. */
export function csvField(v: unknown): string {
  if (v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** A run-config value as one CSV cell: lists joined by "+", objects as JSON. */
const configCell = (v: unknown): unknown => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join('+') : v);

const OUTCOME_COLUMNS = [
  'steps', 'total_steps', 'base_val_loss', 'train_loss_mean_last10', 'final_train_loss', 'best_val_loss', 'best_val_step', 'final_val_loss',
  'adapter_step', 'stopped_early_at', 'peak_memory_bytes', 'wall_time_s',
] as const;

/** Settings and outcomes, one row per run: name, status, model, dataset, every config field, then the outcome. */
export function runsCsv(runs: readonly RunRecord[]): string {
  const fields = [...new Set(runs.flatMap((r) => Object.keys(r.config)))].sort();
  const header = ['run_id', 'name', 'note', 'status', 'model', 'dataset', 'train_examples', 'validation_examples', ...fields, ...OUTCOME_COLUMNS];
  const rows = runs.map((r) => {
    const f = r.final;
    const config = r.config as unknown as Record<string, unknown>;
    return [
      r.id, r.name, r.note ?? '', r.status, r.model.name, r.dataset.name, r.dataset.examples, r.dataset.validation,
      ...fields.map((k) => configCell(config[k])),
      f?.steps ?? r.pointCount, r.totalSteps, r.baseValLoss, f?.trainLossMean, f?.trainLoss, f?.bestVal?.loss, f?.bestVal?.step, f?.valLoss,
      r.adapterStep ?? f?.steps, r.stoppedEarly?.step, f?.peakMemory, f ? f.wallMs / 1000 : undefined,
    ];
  });
  return toCsv(header, rows);
}

/** The records as the studio keeps them (config, model, dataset, outcome), for scripts. */
export function runsJson(runs: readonly RunRecord[]): string {
  const out = runs.map(({ trashedAt: _t, ...r }) => r);
  return JSON.stringify({ exportedAt: new Date().toISOString(), runs: out }, null, 2) + '\n';
}

export const CURVE_COLUMNS = ['run_id', 'run', 'step', 'epoch', 'train_loss', 'val_loss', 'learning_rate', 'grad_norm', 'tokens_per_second', 'elapsed_s'] as const;

/** Every logged step of every run, long form; a run with a base validation loss starts with it at step 0. */
export function curvesCsv(runs: readonly RunRecord[], points: Record<string, readonly StepPoint[]>): string {
  const rows: unknown[][] = [];
  for (const r of runs) {
    if (r.baseValLoss !== undefined) rows.push([r.id, r.name, 0, 0, '', r.baseValLoss, '', '', '', 0]);
    for (const p of points[r.id] ?? []) {
      rows.push([r.id, r.name, p.step, p.epoch, p.loss, p.evalLoss, p.lr, p.gradNorm, p.tokensPerSecond, p.elapsedMs / 1000]);
    }
  }
  return toCsv(CURVE_COLUMNS, rows);
}
