/** The plan of the sweep being set up (runs, memory of the largest), asked of the worker after each change (debounced). */
import { useEffect } from 'react';
import { messageOf, studio } from '../../client';
import { inPlainWords } from '../../stores/field-labels';
import { useSession } from '../../stores/session';
import type { BuiltSweep } from './axes';
import { useSweep } from './store';

let seq = 0;

export function useSweepPlan(built: BuiltSweep): void {
  const model = useSession((s) => s.model);
  const dataset = useSession((s) => s.dataset);
  const key = built.request && model ? JSON.stringify(built.request) : null;
  useEffect(() => {
    const { setPlan } = useSweep.getState();
    if (!key) {
      setPlan(null, null);
      return;
    }
    const mine = ++seq;
    const t = setTimeout(() => {
      studio().planSweep(JSON.parse(key)).then(
        (plan) => { if (mine === seq) setPlan(plan, null); },
        (e) => { if (mine === seq) setPlan(null, inPlainWords(messageOf(e))); },
      );
    }, 250);
    return () => clearTimeout(t);
  }, [key, model, dataset]);
}
