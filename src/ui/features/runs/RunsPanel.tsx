/** Every run kept in this browser; select two or more to overlay their curves, compare and export them. */
import { useEffect, useId, useMemo } from 'react';
import { RUN_PALETTE } from '../../components/colors';
import { useSession } from '../../stores/session';
import { CompareTable } from './CompareTable';
import { ExportButtons } from './ExportButtons';
import { OverlayChart } from './OverlayChart';
import { RunsTable } from './RunsTable';
import { TrainerExport } from './TrainerExport';
import { useRuns } from './store';

const baseVal = (r: { baseValLoss?: number }) => r.baseValLoss;
const trainLoss = (p: { loss: number }) => p.loss;
const evalLoss = (p: { evalLoss?: number }) => p.evalLoss;

export function RunsPanel() {
  const { runs, selected, points, error, refresh, smoothing, setSmoothing } = useRuns();
  const version = useSession((s) => s.libraryVersion);
  const training = useSession((s) => s.training);
  const smoothId = useId();
  useEffect(() => { void refresh(); }, [version, refresh]);
  // A live run's row updates while this tab is open.
  useEffect(() => {
    if (training === 'idle') return;
    const t = setInterval(() => void refresh(), 3000);
    return () => clearInterval(t);
  }, [training, refresh]);
  const chosen = useMemo(() => runs.filter((r) => selected.includes(r.id)), [runs, selected]);
  const colors = useMemo(() => Object.fromEntries(chosen.map((r, i) => [r.id, RUN_PALETTE[i % RUN_PALETTE.length]])), [chosen]);
  return (
    <section className="panel" aria-labelledby="runs-title">
      <h2 id="runs-title">Runs</h2>
      {error && <p className="field-error" role="alert">{error}</p>}
      {runs.length === 0 ? <p className="muted">No runs yet. Every run you start is kept here, with its config and curves.</p> : <RunsTable colors={colors} />}
      {runs.length > 0 && <div className="lib-tools"><TrainerExport runs={runs} /></div>}
      {chosen.length > 0 && (
        <>
          <div className="compare-tools">
            <p className="muted small">{chosen.length < 2 ? 'Select one more run to compare.' : `Comparing ${chosen.length} runs.`}</p>
            <span className="chart-controls">
              <label htmlFor={smoothId}>Smoothing</label>
              <input id={smoothId} type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))}
                aria-describedby={`${smoothId}-help`} />
              <output htmlFor={smoothId} data-testid="runs-smoothing">{smoothing.toFixed(2)}</output>
            </span>
            <p id={`${smoothId}-help`} className="help">Training loss as an exponential moving average (0 = raw), the raw curve faint behind; validation losses are drawn as measured.</p>
            <ExportButtons runs={chosen} />
          </div>
          <div className="charts">
            <OverlayChart title="Training loss" testId="overlay-loss" runs={chosen} colors={colors} points={points} y={trainLoss} smoothing={smoothing} />
            <OverlayChart title="Validation loss" testId="overlay-val" runs={chosen} colors={colors} points={points} y={evalLoss} dots start={baseVal} />
          </div>
          <CompareTable runs={chosen} colors={colors} />
        </>
      )}
    </section>
  );
}
