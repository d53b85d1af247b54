/**
 * Runs: the list from IndexedDB (through the worker), the checkpoints some of them can resume
 * from, which are selected, their curves once loaded. Deleting offers undo; renaming and notes
 * are saved at once.
 */
import { create } from 'zustand';
import type { RunRecord, StepPoint } from '../../../worker/api';
import { messageOf, studio } from '../../client';
import { useSession } from '../../stores/session';
import { offerUndo } from '../../stores/undo';

interface RunsState {
  runs: RunRecord[];
  /** Run id -> the step its checkpoint holds (runs that can resume). */
  checkpoints: Record<string, number>;
  selected: string[];
  points: Record<string, StepPoint[]>;
  error: string | null;
  /** EMA weight of the training-loss overlay (0 = raw), as TensorBoard's smoothing slider. */
  smoothing: number;
  setSmoothing(w: number): void;
  refresh(): Promise<void>;
  toggle(id: string, on: boolean): void;
  remove(id: string): Promise<void>;
  edit(id: string, patch: { name: string; note: string }): Promise<void>;
}

export const useRuns = create<RunsState>()((set, get) => ({
  runs: [],
  checkpoints: {},
  selected: [],
  points: {},
  error: null,
  smoothing: 0.6,
  setSmoothing: (w) => set({ smoothing: Math.min(Math.max(w, 0), 0.99) }),
  async refresh() {
    try {
      const [runs, checkpoints] = await Promise.all([studio().listRuns(), studio().checkpointSteps()]);
      const ids = new Set(runs.map((r) => r.id));
      // Curves of finished runs never change; live ones are reloaded.
      const points = Object.fromEntries(Object.entries(get().points).filter(([id]) => runs.find((r) => r.id === id && r.status !== 'running' && r.status !== 'paused')));
      set({ runs, checkpoints, selected: get().selected.filter((id) => ids.has(id)), points, error: null });
      for (const id of get().selected) if (!points[id]) await loadPoints(id);
    } catch (e) {
      set({ error: messageOf(e) });
    }
  },
  toggle(id, on) {
    set((s) => ({ selected: on ? [...new Set([...s.selected, id])] : s.selected.filter((x) => x !== id) }));
    if (on && !get().points[id]) void loadPoints(id);
  },
  async remove(id) {
    const run = get().runs.find((r) => r.id === id);
    try {
      await studio().trashRun(id);
    } catch (e) {
      set({ error: messageOf(e) });
      return;
    }
    await get().refresh();
    useSession.getState().libraryChanged(); // the resume banner forgets it too
    await offerUndo(`Deleted run "${run?.name ?? id}".`, async () => {
      await studio().restoreRun(id);
      await get().refresh();
      useSession.getState().libraryChanged();
    }, () => studio().deleteRun(id));
  },
  async edit(id, patch) {
    await studio().editRun(id, patch);
    await get().refresh();
    useSession.getState().libraryChanged(); // its adapter may have been renamed with it
  },
}));

async function loadPoints(id: string): Promise<void> {
  try {
    const pts = await studio().runPoints(id);
    useRuns.setState((s) => ({ points: { ...s.points, [id]: pts } }));
  } catch (e) {
    useRuns.setState({ error: messageOf(e) });
  }
}
