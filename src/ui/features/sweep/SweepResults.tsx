/**
 * The sweeps kept in this browser: pick one to see its table and chart, export its rows (CSV and
 * JSON, the CLI's columns), continue it when it did not finish, or forget it (its runs stay).
 */
import { useId, useMemo } from 'react';
import { toCsv } from '../../../train/sweep/results';
import type { SweepRecord } from '../../../worker/sweep-types';
import { saveBlob } from '../../components/download';
import { date } from '../../components/format';
import { useSession } from '../../stores/session';
import { ResultsChart } from './ResultsChart';
import { ResultsTable } from './ResultsTable';
import { useSweep } from './store';
import { exportRows, sweepColumns, sweepRows } from './table';

const STATUS: Record<SweepRecord['status'], string> = { running: 'running', stopped: 'stopped', completed: 'finished', interrupted: 'interrupted' };

/** A file name from the sweep's name. */
const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'sweep';

function Exports({ record, rows }: { record: SweepRecord; rows: ReturnType<typeof sweepRows> }) {
  const out = exportRows(rows);
  const base = `${slug(record.name)}-results`;
  return (
    <div className="sweep-exports" role="group" aria-label="Export the results">
      <button type="button" disabled={out.length === 0} onClick={() => saveBlob(new Blob([toCsv(out)], { type: 'text/csv' }), `${base}.csv`)}>Export CSV</button>{' '}
      <button type="button" disabled={out.length === 0} onClick={() => saveBlob(new Blob([JSON.stringify(out, null, 2) + '\n'], { type: 'application/json' }), `${base}.json`)}>Export JSON</button>
      <span className="muted small"> One row per finished run: the varying fields, trainable_params, peak_memory_bytes, wall_time_s, the losses, the task scores and best (as the CLI's results.csv).</span>
    </div>
  );
}

export function SweepResults() {
  const sweeps = useSweep((s) => s.sweeps);
  const shownId = useSweep((s) => s.shownId);
  const live = useSweep((s) => s.live);
  const { set, continueSweep, remove } = useSweep.getState();
  const training = useSession((s) => s.training);
  const pickId = useId();
  const record = sweeps.find((s) => s.id === shownId) ?? sweeps[0];
  const rows = useMemo(() => (record ? sweepRows(record) : []), [record]);
  const columns = useMemo(() => (record ? sweepColumns(record, rows) : []), [record, rows]);
  if (!record) return null;
  const running = live?.id === record.id;
  const unfinished = !running && record.status !== 'completed';
  const done = record.entries.filter((e) => e.status === 'done').length;
  return (
    <section aria-labelledby="sweep-results-title" className="sweep-results" data-testid="sweep-results">
      <h3 id="sweep-results-title">Results</h3>
      {sweeps.length > 1 && (
        <div className="field inline">
          <label htmlFor={pickId}>Sweep</label>
          <select id={pickId} value={record.id} onChange={(e) => set({ shownId: e.target.value })}>
            {sweeps.map((s) => <option key={s.id} value={s.id}>{s.name} ({date(s.createdAt)}, {STATUS[s.status]})</option>)}
          </select>
        </div>
      )}
      <p data-testid="sweep-status">
        <b>{record.name}</b>: {done} of {record.entries.length} runs finished ({running ? 'running' : STATUS[record.status]}) · {record.model} on {record.dataset}
        {record.tasks.length > 0 && <> · scored on {record.tasks.map((t) => t.name).join(', ')}</>}
      </p>
      {record.error && !running && <p className="field-error" role="alert">{record.error}</p>}
      {unfinished && (
        <p>
          <button type="button" className="primary" disabled={training !== 'idle'} onClick={() => void continueSweep(record.id)}>
            Continue {record.name} ({record.entries.length - done} runs left)
          </button>{' '}
          <span className="muted small">An unfinished run continues from its last checkpoint; finished runs are kept.</span>
        </p>
      )}
      <ResultsTable columns={columns} rows={rows} />
      <Exports record={record} rows={rows} />
      {record.axes.length > 0 && <ResultsChart record={record} columns={columns} rows={rows} />}
      {!running && (
        <p><button type="button" className="link" onClick={() => void remove(record.id)} aria-label={`Forget the sweep ${record.name} (its runs stay in Runs)`}>Forget this sweep</button></p>
      )}
    </section>
  );
}
