/**
 * The run another tab of this browser is training, seen read-only: its state arrives on the
 * training BroadcastChannel (see src/worker/tab-lock.ts). This tab's own worker posts on the same
 * channel, so messages about the run this tab is training are ignored.
 */
import { create } from 'zustand';
import type { RunRecord, StepPoint } from '../../../worker/api';
import { TRAINING_CHANNEL, type TabMessage } from '../../../worker/tab-lock';
import { useLiveRun } from '../../stores/live-run';
import { useSession } from '../../stores/session';

interface OtherTabState {
  /** True while another tab trains. */
  active: boolean;
  run: RunRecord | null;
  points: StepPoint[];
  totalSteps: number;
  paused: boolean;
}

export const useOtherTab = create<OtherTabState>()(() => ({ active: false, run: null, points: [], totalSteps: 0, paused: false }));

const ours = (run: RunRecord | null | undefined) => useSession.getState().training !== 'idle' || (!!run && useLiveRun.getState().run?.id === run.id);

function onMessage(m: TabMessage): void {
  const set = useOtherTab.setState;
  switch (m.type) {
    case 'state':
      if (m.live && !ours(m.run)) set({ active: true, run: m.run, points: m.points, totalSteps: m.totalSteps, paused: false });
      break;
    case 'event': {
      const e = m.event;
      if (e.type === 'started') {
        if (!ours(e.run)) set({ active: true, run: e.run, points: [], totalSteps: e.run.totalSteps, paused: false });
        return;
      }
      if (!useOtherTab.getState().active || ours(useOtherTab.getState().run)) return;
      if (e.type === 'step') set((s) => ({ points: s.points.concat(e.point), totalSteps: e.totalSteps }));
      else if (e.type === 'paused') set({ paused: true });
      else if (e.type === 'resumed') set({ paused: false });
      break;
    }
    case 'ended':
      if (useOtherTab.getState().active && !ours(m.run)) {
        set({ active: false, run: m.run, paused: false });
        useSession.getState().libraryChanged(); // its run and adapter are in the stores now
      }
      break;
  }
}

let channel: BroadcastChannel | null = null;

/** Listen for another tab's run and ask whether one is live now (idempotent). */
export function watchOtherTabs(): void {
  if (channel || typeof BroadcastChannel === 'undefined') return;
  channel = new BroadcastChannel(TRAINING_CHANNEL);
  channel.onmessage = (ev: MessageEvent<TabMessage>) => onMessage(ev.data);
  channel.postMessage({ type: 'hello' } satisfies TabMessage);
}
