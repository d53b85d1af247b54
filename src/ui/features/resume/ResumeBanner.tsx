/**
 * The offer to continue an interrupted run: "Resume <run> from step N" or "Discard" its
 * checkpoint. Shown when the studio opens after a reload or a crash, and after a lost GPU; hidden
 * while a run trains. Resuming needs the run's model and dataset loaded (the demo's load by
 * themselves); the worker checks their fingerprints and says what to load when they differ.
 */
import { useEffect } from 'react';
import { ErrorBox } from '../../components/ErrorBox';
import { useSession } from '../../stores/session';
import { useResume } from './store';

export function ResumeBanner() {
  const items = useResume((s) => s.items);
  const error = useResume((s) => s.error);
  const { refresh, resume, discard, dismissError } = useResume.getState();
  const training = useSession((s) => s.training);
  const libraryVersion = useSession((s) => s.libraryVersion);
  const model = useSession((s) => s.model);
  const dataset = useSession((s) => s.dataset);

  useEffect(() => {
    if (training === 'idle') void refresh();
  }, [training, libraryVersion, refresh]);

  if (training !== 'idle' || (items.length === 0 && !error)) return null;
  return (
    <section className="banner resume-banner" role="region" aria-labelledby="resume-title" data-testid="resume-banner">
      <h2 id="resume-title">Interrupted {items.length === 1 ? 'run' : 'runs'}</h2>
      <ul>
        {items.map(({ run, checkpoint }) => {
          const missing = !model ? `Load the model "${checkpoint.model}" first (Model & data).`
            : !dataset ? `Load the dataset "${checkpoint.dataset}" first (Model & data).` : null;
          const why = `resume-why-${run.id}`;
          return (
            <li key={run.id}>
              <p id={why}>
                <b>{run.name}</b> stopped early{run.error ? ` (${run.error.message.split('. ')[0]})` : ''}. Its checkpoint after step {checkpoint.step} of{' '}
                {checkpoint.totalSteps} is kept{missing ? `. ${missing}` : '; resuming continues the same curve.'}
              </p>
              <button type="button" className="primary" disabled={missing !== null} aria-describedby={why} onClick={() => void resume(run.id)}>
                Resume {run.name} from step {checkpoint.step}
              </button>{' '}
              <button type="button" onClick={() => void discard(run.id)} aria-label={`Discard the checkpoint of ${run.name} (the run stays in Runs)`}>
                Discard
              </button>
            </li>
          );
        })}
      </ul>
      <ErrorBox error={error} onDismiss={dismissError} testId="resume-error" />
    </section>
  );
}
