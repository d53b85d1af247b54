/**
 * Interrupted runs that can continue from a checkpoint (after a reload, a crash or a lost GPU):
 * asked of the worker when the studio opens and whenever a run ends; resuming hands the run to
 * the live-run store (the Train dashboard), discarding deletes the checkpoint only.
 */
import { create } from 'zustand';
import type { ResumableRun } from '../../../worker/api';
import { studio } from '../../client';
import { toShown } from '../../components/ErrorBox';
import { resumeInterruptedRun } from '../../stores/live-run';

interface ResumeState {
  items: ResumableRun[];
  error: { name: string; message: string } | null;
  refresh(): Promise<void>;
  resume(runId: string): Promise<void>;
  discard(runId: string): Promise<void>;
  dismissError(): void;
}

export const useResume = create<ResumeState>()((set, get) => ({
  items: [],
  error: null,
  async refresh() {
    try {
      set({ items: await studio().listResumable() });
    } catch (e) {
      set({ error: toShown(e) });
    }
  },
  async resume(runId) {
    set({ error: null });
    await resumeInterruptedRun(runId);
    await get().refresh();
  },
  async discard(runId) {
    try {
      await studio().discardCheckpoint(runId);
      set({ error: null });
    } catch (e) {
      set({ error: toShown(e) });
    }
    await get().refresh();
  },
  dismissError: () => set({ error: null }),
}));
