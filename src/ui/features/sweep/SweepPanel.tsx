/**
 * Sweep: train several variations of the Configure settings one after another (rank, targets,
 * base precision, optimizer, learning rate, schedule, epochs, dropout, seed) and compare them in
 * one table and chart, each run kept in Runs like any other.
 */
import { useEffect } from 'react';
import { ErrorBox } from '../../components/ErrorBox';
import { useSession } from '../../stores/session';
import { SweepProgress } from './SweepProgress';
import { SweepResults } from './SweepResults';
import { SweepSetup } from './SweepSetup';
import { useSweep } from './store';

export function SweepPanel() {
  const error = useSweep((s) => s.error);
  const live = useSweep((s) => s.live);
  const { refresh, dismissError } = useSweep.getState();
  const version = useSession((s) => s.libraryVersion);
  useEffect(() => { void refresh(); }, [version, refresh]);
  return (
    <section className="panel sweep-panel" aria-labelledby="sweep-title">
      <h2 id="sweep-title">Sweep</h2>
      <p className="muted">
        Try several settings at once: pick the fields to vary and their values, and every combination trains one after another on top of
        the Configure settings. Each run is kept in Runs with its adapter, scored on the tasks you choose, and compared below in one table and chart.
      </p>
      <ErrorBox error={error} onDismiss={dismissError} testId="sweep-error" />
      {live ? <SweepProgress /> : <SweepSetup />}
      <SweepResults />
    </section>
  );
}
