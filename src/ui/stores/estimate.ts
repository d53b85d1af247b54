/** The estimate for the current draft, refreshed (debounced) when the config, model or data change. */
import { useEffect } from 'react';
import { create } from 'zustand';
import type { Estimate } from '../../worker/api';
import { messageOf, studio } from '../client';
import { inPlainWords } from './field-labels';
import { useSession } from './session';
import { useValidatedConfig } from './run-config';

interface EstimateState {
  estimate: Estimate | null;
  error: string | null;
  pending: boolean;
}

export const useEstimate = create<EstimateState>()(() => ({ estimate: null, error: null, pending: false }));

let seq = 0;

export function useLiveEstimate(): void {
  const { config } = useValidatedConfig();
  const model = useSession((s) => s.model);
  const dataset = useSession((s) => s.dataset);
  const key = config && model ? JSON.stringify(config) : null;
  useEffect(() => {
    if (!key || !model) return;
    const mine = ++seq;
    useEstimate.setState({ pending: true });
    const t = setTimeout(() => {
      studio().estimate(JSON.parse(key)).then(
        (estimate) => { if (mine === seq) useEstimate.setState({ estimate, error: null, pending: false }); },
        (e) => { if (mine === seq) useEstimate.setState({ estimate: null, error: inPlainWords(messageOf(e)), pending: false }); },
      );
    }, 250);
    return () => clearTimeout(t);
  }, [key, model, dataset]);
}
