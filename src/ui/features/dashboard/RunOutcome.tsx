/**
 * The end of a run in words: "validation loss A → B" (the base model before step 1, the best
 * after), the adapter (or finetuned model) it saved, and what to do next: try it in the playground (selected there),
 * resume a stopped run from its checkpoint, or train again.
 */
import { useState } from 'react';
import { ErrorBox } from '../../components/ErrorBox';
import { TrainButton } from '../../components/TrainButton';
import { useLiveRun } from '../../stores/live-run';
import { resumeWithInputs } from '../../stores/resume-run';
import { useSession } from '../../stores/session';
import { outcomeOf, outcomeText } from './outcome';

export function RunOutcome() {
  const live = useLiveRun();
  const tryAdapter = useSession((s) => s.tryAdapter);
  const tryFullModel = useSession((s) => s.tryFullModel);
  const setTab = useSession((s) => s.setTab);
  const [resumeError, setResumeError] = useState<{ name: string; message: string } | null>(null);
  if (live.status !== 'done' && live.status !== 'stopped') return null;
  const o = outcomeOf(live.points, live.baseValLoss);
  const last = live.points[live.points.length - 1];
  const stopped = live.status === 'stopped';
  const canResume = stopped && live.run && last && last.step < live.totalSteps;
  return (
    <div className="banner outcome" data-testid="run-done" role="status">
      <p className="outcome-headline" data-testid="run-outcome">
        {stopped ? `Stopped after step ${last?.step ?? 0} of ${live.totalSteps}` : 'Done'}: {outcomeText(o)}.
      </p>
      {live.adapter && <p>Adapter <b>{live.adapter.name}</b> is saved in the library.</p>}
      {live.fullModel && <p>The finetuned model <b>{live.fullModel.name}</b> is saved in the library (Fully finetuned models), ready to download.</p>}
      <div className="row">
        {live.adapter && <button type="button" className="primary" onClick={() => tryAdapter(live.adapter!.id)}>Try it in the playground</button>}
        {live.fullModel && <button type="button" className="primary" onClick={() => tryFullModel(live.fullModel!.id)}>Try it in the playground</button>}
        {canResume && (
          <button type="button" onClick={() => { setResumeError(null); void resumeWithInputs(live.run!.id).then((r) => { if (!r.ok) setResumeError(r.error); }); }}>
            Resume from step {last!.step}
          </button>
        )}
        <button type="button" className="link" onClick={() => setTab('adapters')}>Open the library</button>
      </div>
      <ErrorBox error={resumeError} onDismiss={() => setResumeError(null)} />
      <TrainButton label="Train again" hint="A new run with the settings in Configure." />
    </div>
  );
}
