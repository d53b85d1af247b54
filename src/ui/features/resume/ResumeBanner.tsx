/**
 * The offer to continue an interrupted run: "Resume <run> from step N" or "Discard" its
 * checkpoint. Shown when the studio opens after a reload or a crash, and after a lost GPU; hidden
 * while a run trains. The worker says what resuming loads by itself (the model from the Hub cache
 * or the demo, the dataset's kept copy), shown before the click and as progress after it, and
 * what only the person can load (picked files, a gated repo, a dataset too large to keep): then
 * the button waits until it is loaded.
 */
import { useEffect, useMemo } from 'react';
import { ErrorBox } from '../../components/ErrorBox';
import { ProgressBar } from '../../components/ProgressBar';
import { bytes } from '../../components/format';
import { useSession } from '../../stores/session';
import { useResume } from './store';
import { unfinishedSweepRuns, useSweep } from '../sweep/store';

/** "a", "a and b", "a, b and c". */
const list = (xs: string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);
const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function ResumeBanner() {
  const all = useResume((s) => s.items);
  // A sweep's interrupted run continues with its sweep (the sweep's own offer), not alone.
  const sweeps = useSweep((s) => s.sweeps);
  const items = useMemo(() => { const ofSweeps = unfinishedSweepRuns(sweeps); return all.filter((i) => !ofSweeps.has(i.run.id)); }, [all, sweeps]);
  const error = useResume((s) => s.error);
  const loading = useResume((s) => s.loading);
  const { refresh, resume, discard, dismissError } = useResume.getState();
  const training = useSession((s) => s.training);
  const libraryVersion = useSession((s) => s.libraryVersion);
  const model = useSession((s) => s.model);
  const dataset = useSession((s) => s.dataset);

  useEffect(() => {
    if (training === 'idle' && !useResume.getState().loading) void refresh();
  }, [training, libraryVersion, model, dataset, refresh]);

  if (training !== 'idle' || (items.length === 0 && !error)) return null;
  return (
    <section className="banner resume-banner" role="region" aria-labelledby="resume-title" data-testid="resume-banner">
      <h2 id="resume-title">Interrupted {items.length === 1 ? 'run' : 'runs'}</h2>
      <ul>
        {items.map(({ run, checkpoint, inputs }) => {
          const why = `resume-why-${run.id}`;
          const busy = loading?.runId === run.id;
          const next = inputs.needs.length ? ` To resume it, ${inputs.needs.join('; ')}.`
            : inputs.loads.length ? ` Resuming loads ${list(inputs.loads)}, then continues the same curve.`
            : ' Resuming continues the same curve.';
          return (
            <li key={run.id}>
              <p id={why}>
                <b>{run.name}</b> stopped early{run.error ? ` (${run.error.message.split('. ')[0]})` : ''}. Its checkpoint after step {checkpoint.step} of{' '}
                {checkpoint.totalSteps} is kept.{next}
              </p>
              <button type="button" className="primary" disabled={inputs.needs.length > 0 || loading !== null} aria-busy={busy} aria-describedby={why} onClick={() => void resume(run.id)}>
                Resume {run.name} from step {checkpoint.step}
              </button>{' '}
              <button type="button" disabled={loading !== null} onClick={() => void discard(run.id)} aria-label={`Discard the checkpoint of ${run.name} (the run stays in Runs)`}>
                Discard
              </button>
              {busy && (
                <div className="progress-list" aria-label={`Loading what ${run.name} was trained on`} aria-live="polite" data-testid="resume-progress">
                  {Object.values(loading.progress).length === 0 && <p className="small muted">{capital(`loading ${list(inputs.loads) || 'the run'}…`)}</p>}
                  {Object.values(loading.progress).filter((p) => !p.deferred).map((p) => (
                    <ProgressBar key={p.file} label={p.file} value={p.total ? p.loaded / p.total : p.done ? 1 : null}
                      detail={`${bytes(p.loaded)}${p.total ? ` / ${bytes(p.total)}` : ''}${p.cached ? ' · from this browser' : ''}`} />
                  ))}
                </div>
              )}
            </li>
          );
        })}
      </ul>
      <ErrorBox error={error} onDismiss={dismissError} testId="resume-error" />
    </section>
  );
}
