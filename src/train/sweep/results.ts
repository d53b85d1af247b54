/**
 * A sweep's results table, as the CLI writes it (results.csv / results.json) and the studio shows
 * and exports it: one row per run with the varying fields, trainable_params, peak_memory_bytes,
 * wall_time_s, final_train_loss (mean of the last 10 logged training losses), best_val_loss,
 * final_val_loss and the task metrics (`<task>.<metric>`), and `best` marking the row with the
 * lowest best_val_loss (the lowest final_train_loss when no run has validation).
 */
import { showValue } from './grid';

/** Logged training losses averaged for final_train_loss (one batch's loss is noise). */
export const FINAL_TRAIN_LOSS_OF = 10;

/** The metrics a task evaluation may report, in column order. */
export const TASK_METRICS = ['acc', 'acc_norm', 'exact_match', 'perplexity', 'mean_loss'] as const;

/** What one run of a sweep came to. */
export interface SweepOutcome {
  trainableParams: number;
  /** The run's ledger peak: every GPU buffer it held at once. */
  peakMemoryBytes: number;
  wallTimeS: number;
  finalTrainLoss: number | null;
  bestValLoss: number | null;
  finalValLoss: number | null;
  /** Task metrics by column name (`taskColumn`). */
  scores?: Record<string, number>;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** The loss figures of a run from its logged training losses and its validation losses in order. */
export function lossSummary(trainLosses: readonly number[], evalLosses: readonly number[]): Pick<SweepOutcome, 'finalTrainLoss' | 'bestValLoss' | 'finalValLoss'> {
  return {
    finalTrainLoss: mean(trainLosses.slice(-FINAL_TRAIN_LOSS_OF)),
    bestValLoss: evalLosses.length ? Math.min(...evalLosses) : null,
    finalValLoss: evalLosses.length ? evalLosses[evalLosses.length - 1] : null,
  };
}

/** A task's column name: its file name without .jsonl, a dot, the metric ("demo-tell-ask-shout-mc.acc"). */
export function taskColumn(task: string, metric: string): string {
  const base = task.split(/[\\/]/).pop() ?? task;
  return `${base.replace(/\.jsonl?$/, '')}.${metric}`;
}

/** Task metrics of a report's score as columns (only the metrics it has). */
export function taskScores(task: string, score: Partial<Record<(typeof TASK_METRICS)[number], number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of TASK_METRICS) if (typeof score[m] === 'number') out[taskColumn(task, m)] = score[m];
  return out;
}

export function resultRow(name: string, varying: Record<string, unknown>, o: SweepOutcome): Record<string, unknown> {
  return {
    run: name, ...varying, trainable_params: o.trainableParams, peak_memory_bytes: o.peakMemoryBytes, wall_time_s: Number(o.wallTimeS.toFixed(3)),
    final_train_loss: o.finalTrainLoss, best_val_loss: o.bestValLoss, final_val_loss: o.finalValLoss, ...(o.scores ?? {}),
  };
}

/** The column `best` is decided on: best_val_loss, or final_train_loss when no run has validation. */
export function bestKey(rows: readonly Record<string, unknown>[]): 'best_val_loss' | 'final_train_loss' {
  return rows.some((r) => typeof r.best_val_loss === 'number') ? 'best_val_loss' : 'final_train_loss';
}

/** Mark the row with the lowest best_val_loss (or final_train_loss when no run has validation). */
export function markBest(rows: Record<string, unknown>[]): void {
  const key = bestKey(rows);
  let best = -1;
  rows.forEach((r, i) => {
    const v = r[key];
    if (typeof v === 'number' && Number.isFinite(v) && (best < 0 || v < (rows[best][key] as number))) best = i;
  });
  rows.forEach((r, i) => (r.best = i === best));
}

/** A cell of results.csv: lists joined with +, quoted when it holds a comma, quote or newline. */
export function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : showValue(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows as CSV: every key of any row a column, in the order first seen. */
export function toCsv(rows: readonly Record<string, unknown>[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return [cols.join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
}
