/** Runs: the list from IndexedDB (through the worker), which are selected, their curves once loaded. */
import { create } from 'zustand';
import type { RunRecord, StepPoint } from '../../../worker/api';
import { messageOf, studio } from '../../client';

interface RunsState {
  runs: RunRecord[];
  selected: string[];
  points: Record<string, StepPoint[]>;
  error: string | null;
  refresh(): Promise<void>;
  toggle(id: string, on: boolean): void;
  remove(id: string): Promise<void>;
}

export const useRuns = create<RunsState>()((set, get) => ({
  runs: [],
  selected: [],
  points: {},
  error: null,
  async refresh() {
    try {
      const runs = await studio().listRuns();
      const ids = new Set(runs.map((r) => r.id));
      // Curves of finished runs never change; live ones are reloaded.
      const points = Object.fromEntries(Object.entries(get().points).filter(([id]) => runs.find((r) => r.id === id && r.status !== 'running' && r.status !== 'paused')));
      set({ runs, selected: get().selected.filter((id) => ids.has(id)), points, error: null });
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
    await studio().deleteRun(id);
    await get().refresh();
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
