/** Every run kept in this browser; select two or more to overlay their curves and compare them. */
import { useEffect, useMemo } from 'react';
import { RUN_PALETTE } from '../../components/colors';
import { bytes, date, duration, loss } from '../../components/format';
import { useSession } from '../../stores/session';
import { CompareTable } from './CompareTable';
import { OverlayChart } from './OverlayChart';
import { useRuns } from './store';

export function RunsPanel() {
  const { runs, selected, points, error, refresh, toggle, remove } = useRuns();
  const version = useSession((s) => s.libraryVersion);
  const training = useSession((s) => s.training);
  useEffect(() => { void refresh(); }, [version, refresh]);
  // A live run's row updates while this tab is open.
  useEffect(() => {
    if (training === 'idle') return;
    const t = setInterval(() => void refresh(), 3000);
    return () => clearInterval(t);
  }, [training, refresh]);
  const chosen = runs.filter((r) => selected.includes(r.id));
  const colors = useMemo(() => Object.fromEntries(chosen.map((r, i) => [r.id, RUN_PALETTE[i % RUN_PALETTE.length]])), [chosen]);
  return (
    <section className="panel" aria-labelledby="runs-title">
      <h2 id="runs-title">Runs</h2>
      {error && <p className="field-error" role="alert">{error}</p>}
      {runs.length === 0 ? <p className="muted">No runs yet. Every run you start is kept here, with its config and curves.</p> : (
        <table className="dense" data-testid="runs-table">
          <thead>
            <tr><th scope="col">Compare</th><th scope="col">Run</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Steps</th><th scope="col">Train loss</th><th scope="col">Val loss</th><th scope="col">Peak memory</th><th scope="col">Wall time</th><th /></tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id} data-testid="run-row">
                <td><input type="checkbox" aria-label={`Compare ${r.name}`} checked={selected.includes(r.id)} onChange={(e) => toggle(r.id, e.target.checked)} /></td>
                <td><span className="swatch" style={{ background: colors[r.id] ?? 'transparent' }} />{r.name}<div className="muted small">{r.model.name} · {r.dataset.name}</div></td>
                <td><span className={`status ${r.status}`} title={r.error?.message}>{r.status}</span></td>
                <td>{date(r.createdAt)}</td>
                <td>{r.final?.steps ?? r.pointCount} / {r.totalSteps}</td>
                <td>{loss(r.final?.trainLoss)}</td>
                <td>{loss(r.final?.valLoss)}</td>
                <td>{r.final ? bytes(r.final.peakMemory) : '–'}</td>
                <td>{r.final ? duration(r.final.wallMs) : '–'}</td>
                <td><button type="button" className="link" aria-label={`Delete run ${r.name}`} disabled={r.status === 'running' || r.status === 'paused'} onClick={() => void remove(r.id)}>Delete</button></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {chosen.length > 0 && (
        <>
          <p className="muted small">{chosen.length < 2 ? 'Select one more run to compare.' : `Comparing ${chosen.length} runs.`}</p>
          <div className="charts">
            <OverlayChart title="Training loss" testId="overlay-loss" runs={chosen} colors={colors} points={points} y={(p) => p.loss} />
            <OverlayChart title="Validation loss" testId="overlay-val" runs={chosen} colors={colors} points={points} y={(p) => p.evalLoss} dots />
          </div>
          <CompareTable runs={chosen} colors={colors} />
        </>
      )}
    </section>
  );
}
