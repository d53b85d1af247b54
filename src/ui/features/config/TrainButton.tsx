/** Start a run with the validated config; says what is missing when it cannot. */
import { startRun } from '../../stores/live-run';
import { useValidatedConfig } from '../../stores/run-config';
import { useSession } from '../../stores/session';
import { useEstimate } from './estimate-store';

export function TrainButton() {
  const { config, errors } = useValidatedConfig();
  const model = useSession((s) => s.model);
  const dataset = useSession((s) => s.dataset);
  const training = useSession((s) => s.training);
  const continueFrom = useSession((s) => s.continueFrom);
  const estimate = useEstimate((s) => s.estimate);
  const problems = estimate?.problems ?? [];
  const missing = !model ? 'Load a base model first (Model & data).'
    : !dataset ? 'Load a dataset first (Model & data).'
    : !config ? `Fix ${Object.keys(errors).length === 1 ? 'the field' : 'the fields'} marked above: ${Object.keys(errors).join(', ')}.`
    : training !== 'idle' ? 'A run is training.'
    : problems.length ? 'This configuration does not fit the GPU (see above).' : null;
  return (
    <div className="train-button">
      <button type="button" className="primary" disabled={missing !== null} aria-describedby="train-why"
        onClick={() => config && void startRun(config, continueFrom ? { initialAdapterId: continueFrom.id } : {})}>
        Train
      </button>
      <p id="train-why" className="muted small">{missing ?? 'Trains in this tab on your GPU; the dashboard opens.'}</p>
    </div>
  );
}
