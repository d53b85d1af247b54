/** The live run: controls, progress with ETA, the figures, the outcome when it ends, and the curves (all points kept, a few hundred drawn). */
import { ErrorBox } from '../../components/ErrorBox';
import { ProgressBar } from '../../components/ProgressBar';
import { TrainButton } from '../../components/TrainButton';
import { duration, transfer } from '../../components/format';
import { isOver, pauseRun, resumeRun, stopRun, useLiveRun } from '../../stores/live-run';
import { etaMs } from '../../charts/smoothing';
import { useThrottled } from '../../charts/use-throttled';
import { Charts } from './Charts';
import { IdleStart } from './IdleStart';
import { LiveMetrics } from './LiveMetrics';
import { RunOutcome } from './RunOutcome';

export function Dashboard() {
  const live = useLiveRun();
  const { points } = live;
  const last = points[points.length - 1];

  // Numbers update every step; the charts redraw at most a few times a second.
  const drawn = useThrottled(points, 300);

  if (live.status === 'idle') return <IdleStart />;
  const total = live.totalSteps;
  const over = isOver(live.status);
  const eta = !over && last ? etaMs(last.step, total, last.elapsedMs) : null;
  const running = live.status === 'training' || live.status === 'paused' || live.status === 'starting';
  const clip = live.run?.config.gradClip;
  const timing = over ? `elapsed ${duration(last?.elapsedMs ?? 0)}` : `elapsed ${duration(last?.elapsedMs ?? 0)} · ETA ${eta === null ? '–' : duration(eta)}`;
  return (
    <section className="panel dashboard" aria-labelledby="dash-title">
      <div className="dash-head">
        <h2 id="dash-title">{live.run?.name ?? 'Starting a run'}</h2>
        <span className={`status ${live.status}`} data-testid="run-status" role="status">{live.status}</span>
        <div className="spacer" />
        {live.status === 'paused'
          ? <button type="button" onClick={() => void resumeRun()}>Resume</button>
          : <button type="button" onClick={() => void pauseRun()} disabled={live.status !== 'training'}>Pause</button>}
        <button type="button" className="danger" onClick={() => void stopRun()} disabled={!running}>Stop and save</button>
      </div>
      {!over && live.phase && live.phase.phase !== 'training' && (
        <ProgressBar label={live.phase.message} value={live.phase.progress ?? null} detail={live.phase.transfer && transfer(live.phase.transfer)} />
      )}
      <ProgressBar label="Progress" value={total ? (last?.step ?? 0) / total : 0}
        detail={`step ${last?.step ?? 0} / ${total} · epoch ${(last?.epoch ?? 0).toFixed(2)} · ${timing}`} />
      <LiveMetrics points={points} baseValLoss={live.baseValLoss} />
      {live.checkpoint && live.status !== 'done' && (
        <p className={live.checkpoint.error ? 'note warn' : 'note'} data-testid="checkpoint-status" role="status">
          {live.checkpoint.step > 0 ? `Checkpoint saved after step ${live.checkpoint.step}.` : 'No checkpoint yet.'}
          {live.checkpoint.error ? ` The latest save failed (training goes on): ${live.checkpoint.error}` : ''}
        </p>
      )}
      {live.warnings.map((w, i) => <p key={i} className="note warn" role="status" data-testid="run-warning">{w}</p>)}
      <ErrorBox error={live.error} testId="run-error" />
      <RunOutcome />
      {live.status === 'failed' && <TrainButton label="Train again" hint="A new run with the settings in Configure." />}
      <Charts points={drawn} gradClip={clip} baseValLoss={live.baseValLoss} />
    </section>
  );
}
