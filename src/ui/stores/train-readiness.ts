/**
 * Whether a run can start now with the configured settings, and if not, what to do first (in
 * words: field labels, never identifiers). Shared by the Train buttons of Configure and Train.
 */
import { labelOf } from './field-labels';
import { useEstimate } from './estimate';
import { useValidatedConfig } from './run-config';
import { useSession } from './session';
import type { RunConfig } from '../../config/run-config';

export interface TrainReadiness {
  config: RunConfig | null;
  /** Why Train is disabled, as a sentence; null when a run can start. */
  blocker: string | null;
  /** The adapter a new run continues, if any. */
  continueFrom: { id: string; name: string } | null;
}

const list = (xs: string[]) => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

export function useTrainReadiness(): TrainReadiness {
  const { config, errors } = useValidatedConfig();
  const model = useSession((s) => s.model);
  const dataset = useSession((s) => s.dataset);
  const training = useSession((s) => s.training);
  const continueFrom = useSession((s) => s.continueFrom);
  const estimate = useEstimate((s) => s.estimate);
  const problems = estimate?.problems ?? [];
  const fields = [...new Set(Object.keys(errors).map(labelOf))];
  const blocker = !model ? 'Load a base model first (Model & data).'
    : !dataset ? 'Load a dataset first (Model & data).'
    : !config ? `Fix ${fields.length === 1 ? 'the field' : 'the fields'} marked in Configure: ${list(fields)}.`
    : training !== 'idle' ? 'A run is training.'
    : problems.length ? 'This configuration does not fit the GPU (see the estimate in Configure).' : null;
  return { config, blocker, continueFrom };
}
