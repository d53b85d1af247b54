/** The live run: controls, progress with ETA, and the curves (all points kept, a few hundred drawn). */
import { ErrorBox } from '../../components/ErrorBox';
import { ProgressBar } from '../../components/ProgressBar';
import { count, duration, loss as fmtLoss, lr as fmtLr } from '../../components/format';
import { pauseRun, resumeRun, stopRun, useLiveRun } from '../../stores/live-run';
import { useSession } from '../../stores/session';
import { etaMs } from '../../charts/smoothing';
import { useThrottled } from '../../charts/use-throttled';
import { Charts } from './Charts';

function lastEval(points: readonly { evalLoss?: number }[]): number | undefined {
  for (let i = points.length - 1; i >= 0; i--) if (points[i].evalLoss !== undefined) return points[i].evalLoss;
  return undefined;
}

export function Dashboard() {
  const live = useLiveRun();
  const setTab = useSession((s) => s.setTab);
  const tryAdapter = useSession((s) => s.tryAdapter);
  const { points } = live;
  const last = points[points.length - 1];

  // Numbers update every step; the charts redraw at most a few times a second.
  const drawn = useThrottled(points, 300);

  if (live.status === 'idle') {
    return (
      <section className="panel" aria-labelledby="dash-title">
        <h2 id="dash-title">Training</h2>
        <p>No run yet in this tab. Set up the model, data and configuration, then press Train.</p>
        <button type="button" onClick={() => setTab('configure')}>Go to Configure</button>
      </section>
    );
  }
  const total = live.totalSteps;
  const eta = last ? etaMs(last.step, total, last.elapsedMs) : null;
  const running = live.status === 'training' || live.status === 'paused' || live.status === 'starting';
  const clip = live.run?.config.gradClip;
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
      {live.phase && live.phase.phase !== 'training' && (
        <ProgressBar label={live.phase.message} value={live.phase.progress ?? null} />
      )}
      <ProgressBar label="Progress" value={total ? (last?.step ?? 0) / total : 0}
        detail={`step ${last?.step ?? 0} / ${total} · epoch ${(last?.epoch ?? 0).toFixed(2)} · elapsed ${duration(last?.elapsedMs ?? 0)} · ETA ${eta === null ? '–' : duration(eta)}`} />
      <dl className="kv inline-kv" data-testid="live-metrics">
        <dt>loss</dt><dd>{fmtLoss(last?.loss)}</dd>
        <dt>val loss</dt><dd>{fmtLoss(lastEval(points))}</dd>
        <dt>lr</dt><dd>{last ? fmtLr(last.lr) : '–'}</dd>
        <dt>grad norm</dt><dd>{last ? last.gradNorm.toFixed(3) : '–'}</dd>
        <dt>tokens/s</dt><dd>{last ? count(Math.round(last.tokensPerSecond)) : '–'}</dd>
      </dl>
      {live.checkpoint && (
        <p className={live.checkpoint.error ? 'note warn' : 'note'} data-testid="checkpoint-status" role="status">
          {live.checkpoint.step > 0 ? `Checkpoint saved after step ${live.checkpoint.step}.` : 'No checkpoint yet.'}
          {live.checkpoint.error ? ` The latest save failed (training goes on): ${live.checkpoint.error}` : ''}
        </p>
      )}
      {live.warnings.map((w, i) => <p key={i} className="note warn" role="status" data-testid="run-warning">{w}</p>)}
      <ErrorBox error={live.error} testId="run-error" />
      {live.status === 'done' && live.adapter && (
        <p className="banner" data-testid="run-done">
          {live.run?.status === 'stopped' ? 'Stopped; ' : 'Done; '}adapter <b>{live.adapter.name}</b> saved to the library.{' '}
          <button type="button" className="link" onClick={() => tryAdapter(live.adapter!.id)}>Try it in the playground</button>{' '}
          <button type="button" className="link" onClick={() => setTab('adapters')}>Open the library</button>
        </p>
      )}
      <Charts points={drawn} gradClip={clip} />
    </section>
  );
}
