/**
 * The offer to continue a sweep that a reload, a crash or a lost GPU interrupted: shown on every
 * tab when the studio opens (like the interrupted-run banner, which leaves the sweep's own run to
 * this offer), hidden while anything trains.
 */
import { useEffect } from 'react';
import { useSession } from '../../stores/session';
import { useSweep } from './store';

export function SweepResumeOffer() {
  const sweeps = useSweep((s) => s.sweeps);
  const live = useSweep((s) => s.live);
  const training = useSession((s) => s.training);
  const setTab = useSession((s) => s.setTab);
  const { refresh, continueSweep } = useSweep.getState();
  useEffect(() => { if (training === 'idle') void refresh(); }, [training, refresh]);
  const interrupted = sweeps.filter((s) => s.status === 'interrupted');
  if (training !== 'idle' || live || interrupted.length === 0) return null;
  return (
    <section className="banner resume-banner" role="region" aria-labelledby="sweep-resume-title" data-testid="sweep-resume">
      <h2 id="sweep-resume-title">Interrupted {interrupted.length === 1 ? 'sweep' : 'sweeps'}</h2>
      <ul>
        {interrupted.map((s) => {
          const done = s.entries.filter((e) => e.status === 'done').length;
          return (
            <li key={s.id}>
              <p><b>{s.name}</b> stopped after {done} of {s.entries.length} runs{s.error ? ` (${s.error.split('. ')[0]})` : ''}. Continuing resumes its unfinished run from its last checkpoint, then trains the rest.</p>
              <button type="button" className="primary" onClick={() => { setTab('sweep'); void continueSweep(s.id); }}>Continue {s.name}</button>{' '}
              <button type="button" onClick={() => { useSweep.getState().set({ shownId: s.id }); setTab('sweep'); }}>Open in Sweep</button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
