/** Every run kept in this browser; select two or more to overlay their curves and compare them. */
import { useEffect, useMemo } from 'react';
import { RUN_PALETTE } from '../../components/colors';
import { useSession } from '../../stores/session';
import { CompareTable } from './CompareTable';
import { OverlayChart } from './OverlayChart';
import { RunsTable } from './RunsTable';
import { useRuns } from './store';

const baseVal = (r: { baseValLoss?: number }) => r.baseValLoss;

export function RunsPanel() {
  const { runs, selected, points, error, refresh } = useRuns();
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
      {runs.length === 0 ? <p className="muted">No runs yet. Every run you start is kept here, with its config and curves.</p> : <RunsTable colors={colors} />}
      {chosen.length > 0 && (
        <>
          <p className="muted small">{chosen.length < 2 ? 'Select one more run to compare.' : `Comparing ${chosen.length} runs.`}</p>
          <div className="charts">
            <OverlayChart title="Training loss" testId="overlay-loss" runs={chosen} colors={colors} points={points} y={(p) => p.loss} />
            <OverlayChart title="Validation loss" testId="overlay-val" runs={chosen} colors={colors} points={points} y={(p) => p.evalLoss} dots start={baseVal} />
          </div>
          <CompareTable runs={chosen} colors={colors} />
        </>
      )}
    </section>
  );
}
