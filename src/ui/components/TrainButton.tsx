/** Start a run with the configured settings; says what is missing when it cannot. */
import { useId } from 'react';
import { startRun } from '../stores/live-run';
import { useTrainReadiness } from '../stores/train-readiness';

export function TrainButton({ label = 'Train', hint = 'Trains in this tab on your GPU; the dashboard opens.' }: { label?: string; hint?: string }) {
  const { config, blocker, continueFrom } = useTrainReadiness();
  const why = useId();
  return (
    <div className="train-button">
      <button type="button" className="primary" disabled={blocker !== null} aria-describedby={why}
        onClick={() => config && void startRun(config, continueFrom ? { initialAdapterId: continueFrom.id } : {})}>
        {label}
      </button>
      <p id={why} className="muted small" data-testid="train-why">{blocker ?? hint}</p>
    </div>
  );
}
