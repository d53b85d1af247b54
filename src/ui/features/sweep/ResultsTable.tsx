/**
 * A sweep's results like a paper's table: each varying field a column, then trainable parameters,
 * peak memory, wall time, the losses and the task scores; the best run marked, the best value of
 * each metric in bold; sortable by any column (click its header); runs not finished show why.
 */
import { useMemo, useState } from 'react';
import { bestKey } from '../../../train/sweep/results';
import { bytes, count } from '../../components/format';
import { showField } from './axes';
import { sortRows, type Column, type Row, type Sort } from './table';

function cell(c: Column, v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (c.kind === 'field') return showField(c.key, v);
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
  if (c.kind === 'count') return count(v);
  if (c.kind === 'bytes') return bytes(v);
  if (c.kind === 'seconds') return `${v < 10 ? v.toFixed(1) : v.toFixed(0)} s`;
  if (c.kind === 'loss') return v.toFixed(4);
  return v.toFixed(3);
}

const STATUS_WORDS: Record<Row['status'], string> = { queued: 'queued', training: 'training…', evaluating: 'scoring…', done: '', stopped: 'stopped', failed: 'failed' };

export function ResultsTable({ columns, rows }: { columns: Column[]; rows: Row[] }) {
  const [sort, setSort] = useState<Sort>(null);
  const shown = useMemo(() => sortRows(rows, sort), [rows, sort]);
  // The best value of each metric among finished runs (bold), when the runs differ in it.
  const bests = useMemo(() => {
    const out: Record<string, number> = {};
    for (const c of columns) {
      if (!c.better) continue;
      const vals = rows.filter((r) => r.status === 'done').map((r) => r.cells[c.key]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      if (vals.length > 1 && new Set(vals).size > 1) out[c.key] = c.better === 'lower' ? Math.min(...vals) : Math.max(...vals);
    }
    return out;
  }, [columns, rows]);
  const toggle = (key: string) => setSort((s) => (s?.key === key ? { key, dir: s.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: 'asc' }));
  return (
    <div className="table-scroll" data-testid="sweep-table-scroll">
      <table className="dense sweep-table" data-testid="sweep-table">
        <caption className="muted small">Click a column's header to sort by it (again to reverse). ★ marks the run with the lowest {bestKey(rows.map((r) => r.cells)) === 'best_val_loss' ? 'best validation loss' : 'final training loss (no run has validation)'}; the best value of each metric is in bold.</caption>
        <thead>
          <tr>
            <th scope="col">#</th>
            {columns.map((c) => (
              <th key={c.key} scope="col" aria-sort={sort?.key === c.key ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'} data-key={c.key}>
                <button type="button" className="link sort" onClick={() => toggle(c.key)}>
                  {c.label}{sort?.key === c.key ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr key={r.index} className={r.best ? 'best' : undefined} data-status={r.status} data-best={r.best || undefined}>
              <th scope="row">{r.index + 1}{r.best && <span className="badge" aria-label="best run"> ★ best</span>}</th>
              {columns.map((c) => {
                const v = r.cells[c.key];
                if (r.status !== 'done' && c.kind !== 'field') {
                  return c === columns.find((x) => x.kind !== 'field') ? <td key={c.key} className="muted" title={r.error}>{STATUS_WORDS[r.status]}{r.error ? `: ${r.error}` : ''}</td> : <td key={c.key} />;
                }
                return <td key={c.key} data-key={c.key}>{typeof v === 'number' && bests[c.key] === v ? <b>{cell(c, v)}</b> : cell(c, v)}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
