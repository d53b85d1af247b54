/**
 * A sweep's results as the Sweep tab shows them: one row per run (src/train/sweep/results.ts, the
 * CLI's columns), the varying fields first, the best finished row marked, sortable by any column;
 * the chart's series of a metric against a field. Pure, for the table, the exports and the tests.
 */
import { markBest, resultRow, TASK_METRICS } from '../../../train/sweep/results';
import type { SweepRecord, SweepRunStatus } from '../../../worker/sweep-types';
import { labelOf } from '../../stores/field-labels';
import { showField } from './axes';

export type ColumnKind = 'field' | 'count' | 'bytes' | 'seconds' | 'loss' | 'score';

export interface Column {
  key: string;
  label: string;
  kind: ColumnKind;
  /** Which way is better, for metrics. */
  better?: 'lower' | 'higher';
}

export interface Row {
  index: number;
  status: SweepRunStatus;
  error?: string;
  runId?: string;
  /** The CLI's row: run, the varying fields, the figures, task metrics, best. */
  cells: Record<string, unknown>;
  best: boolean;
}

const FIGURES: Column[] = [
  { key: 'trainable_params', label: 'Trainable parameters', kind: 'count' },
  { key: 'peak_memory_bytes', label: 'Peak memory', kind: 'bytes', better: 'lower' },
  { key: 'wall_time_s', label: 'Wall time', kind: 'seconds', better: 'lower' },
  { key: 'final_train_loss', label: 'Final train loss', kind: 'loss', better: 'lower' },
  { key: 'best_val_loss', label: 'Best val loss', kind: 'loss', better: 'lower' },
  { key: 'final_val_loss', label: 'Final val loss', kind: 'loss', better: 'lower' },
];

const METRIC_WORDS: Record<string, { label: string; better: 'lower' | 'higher' }> = {
  acc: { label: 'acc', better: 'higher' }, acc_norm: { label: 'acc_norm', better: 'higher' }, exact_match: { label: 'exact match', better: 'higher' },
  perplexity: { label: 'perplexity', better: 'lower' }, mean_loss: { label: 'mean loss', better: 'lower' },
};

/** The table's rows, in run order; the best is decided among finished runs only. */
export function sweepRows(record: SweepRecord): Row[] {
  const rows = record.entries.map((e, index): Row => ({
    index, status: e.status, ...(e.error ? { error: e.error } : {}), ...(e.runId ? { runId: e.runId } : {}), best: false,
    cells: e.outcome ? resultRow(e.name, e.varying, e.outcome) : { run: e.name, ...e.varying },
  }));
  const done = rows.filter((r) => r.status === 'done');
  const cells = done.map((r) => r.cells);
  markBest(cells);
  done.forEach((r) => (r.best = r.cells.best === true));
  return rows;
}

/** The columns: each varying field, the figures, the task metrics present in any row. */
export function sweepColumns(record: SweepRecord, rows: readonly Row[]): Column[] {
  const fields: Column[] = record.axes.map(([f]) => ({ key: f, label: labelOf(f), kind: 'field' }));
  const tasks = [...new Set(rows.flatMap((r) => Object.keys(r.cells)))]
    .filter((k) => TASK_METRICS.some((m) => k.endsWith(`.${m}`)))
    .map((k): Column => {
      const metric = k.slice(k.lastIndexOf('.') + 1);
      return { key: k, label: `${k.slice(0, k.lastIndexOf('.')).replace(/\.jsonl?$/, '')} ${METRIC_WORDS[metric].label}`, kind: 'score', better: METRIC_WORDS[metric].better };
    });
  return [...fields, ...FIGURES, ...tasks];
}

export type Sort = { key: string; dir: 'asc' | 'desc' } | null;

const isEmpty = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v));

/** Order of two non-empty cells: numbers by value, anything else by its text (numbers in it by value). */
function compare(a: unknown, b: unknown, key: string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return showField(key, a).localeCompare(showField(key, b), undefined, { numeric: true });
}

/** Rows sorted by one column; empty cells (unfinished runs) last in either direction, ties in run order. */
export function sortRows(rows: readonly Row[], sort: Sort): Row[] {
  if (!sort) return [...rows];
  const sign = sort.dir === 'asc' ? 1 : -1;
  return [...rows].sort((x, y) => {
    const a = x.cells[sort.key];
    const b = y.cells[sort.key];
    if (isEmpty(a) || isEmpty(b)) return isEmpty(a) === isEmpty(b) ? x.index - y.index : isEmpty(a) ? 1 : -1;
    return sign * compare(a, b, sort.key) || x.index - y.index;
  });
}

/** The rows of the exports: finished runs, in run order, as the CLI writes them (best marked). */
export function exportRows(rows: readonly Row[]): Record<string, unknown>[] {
  return rows.filter((r) => r.status === 'done').map((r) => ({ ...r.cells }));
}

export interface ChartSeries {
  name: string;
  points: { x: number | string; y: number }[];
}

/**
 * A metric against one varying field: one series per combination of the other varying fields
 * (validation loss against rank, a line per target set). `numeric`: the field's values are all
 * numbers (a line chart); else categories (bars).
 */
export function chartSeries(record: SweepRecord, rows: readonly Row[], field: string, metric: string): { series: ChartSeries[]; numeric: boolean; categories: string[] } {
  const others = record.axes.map(([f]) => f).filter((f) => f !== field);
  const done = rows.filter((r) => r.status === 'done' && typeof r.cells[metric] === 'number' && Number.isFinite(r.cells[metric]));
  const numeric = done.every((r) => typeof r.cells[field] === 'number');
  const byName = new Map<string, ChartSeries>();
  for (const r of done) {
    const name = others.length ? others.map((f) => `${labelOf(f).replace(/ \(.*\)$/, '')} ${showField(f, r.cells[f])}`).join(', ') : labelOf(metric);
    const s = byName.get(name) ?? { name, points: [] };
    s.points.push({ x: numeric ? (r.cells[field] as number) : showField(field, r.cells[field]), y: r.cells[metric] as number });
    byName.set(name, s);
  }
  const series = [...byName.values()];
  if (numeric) for (const s of series) s.points.sort((a, b) => (a.x as number) - (b.x as number));
  const axis = record.axes.find(([f]) => f === field)?.[1] ?? [];
  const categories = numeric ? [] : axis.map((v) => showField(field, v));
  return { series, numeric, categories };
}
