/** The running sweep: which run of how many, its step and loss (or the task it is scored on), and Stop. */
import { ProgressBar } from '../../components/ProgressBar';
import { useSweep } from './store';

export function SweepProgress() {
  const live = useSweep((s) => s.live);
  const sweeps = useSweep((s) => s.sweeps);
  const stopping = useSweep((s) => s.stopping);
  const stop = useSweep((s) => s.stop);
  if (!live) return null;
  const record = sweeps.find((s) => s.id === live.id);
  const n = record?.entries.length ?? 0;
  const done = record?.entries.filter((e) => e.status === 'done' || e.status === 'failed').length ?? 0;
  const entry = record?.entries[live.index];
  const ev = live.evaluating;
  return (
    <section className="sweep-progress" aria-labelledby="sweep-progress-title" data-testid="sweep-progress">
      <h3 id="sweep-progress-title">{record ? record.name : 'Starting the sweep…'}</h3>
      {record && (
        <>
          <ProgressBar label={`Runs finished: ${done} of ${n}`} value={n ? done / n : null} />
          <ProgressBar
            label={`Run ${live.index + 1} of ${n}${entry ? ` (${entry.label})` : ''}: ${ev ? `scoring on ${ev.task}` : live.phase}`}
            value={ev ? (ev.progress?.total ? ev.progress.done / ev.progress.total : null) : live.totalSteps ? live.step / live.totalSteps : null}
            detail={ev ? (ev.progress ? `${ev.progress.done} / ${ev.progress.total}` : undefined) : live.totalSteps ? `step ${live.step} / ${live.totalSteps}${live.loss !== null ? ` · loss ${live.loss.toFixed(4)}` : ''}` : undefined}
          />
        </>
      )}
      <button type="button" onClick={() => void stop()} disabled={stopping}>{stopping ? 'Stopping after this step…' : 'Stop the sweep'}</button>
      <p className="muted small">Stopping keeps the current run's checkpoint: continue the sweep later from where it stopped.</p>
    </section>
  );
}
