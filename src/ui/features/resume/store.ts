/**
 * Interrupted runs that can continue from a checkpoint (after a reload, a crash or a lost GPU):
 * asked of the worker when the studio opens, whenever a run ends and whenever the loaded model or
 * dataset changes. Resuming first loads what the run was trained on where the worker kept it (the
 * model through the Hub cache, the dataset's copy), with per-file progress, then hands the run to
 * the live-run store (the Train dashboard); discarding deletes the checkpoint and kept inputs.
 */
import { create } from 'zustand';
import type { FileProgress, ResumableRun } from '../../../worker/api';
import { callback, studio } from '../../client';
import { toShown } from '../../components/ErrorBox';
import { resumeInterruptedRun } from '../../stores/live-run';
import { useSession } from '../../stores/session';

interface ResumeState {
  items: ResumableRun[];
  error: { name: string; message: string } | null;
  /** The run whose model and dataset are loading now, with per-file progress. */
  loading: { runId: string; progress: Record<string, FileProgress> } | null;
  refresh(): Promise<void>;
  resume(runId: string): Promise<void>;
  discard(runId: string): Promise<void>;
  dismissError(): void;
}

export const useResume = create<ResumeState>()((set, get) => ({
  items: [],
  error: null,
  loading: null,
  async refresh() {
    try {
      set({ items: await studio().listResumable() });
    } catch (e) {
      set({ error: toShown(e) });
    }
  },
  async resume(runId) {
    if (get().loading) return;
    set({ error: null, loading: { runId, progress: {} } });
    try {
      const onProgress = (p: FileProgress) => set((s) => ({ loading: s.loading && { ...s.loading, progress: { ...s.loading.progress, [p.file]: p } } }));
      const got = await studio().loadRunInputs(runId, callback(onProgress));
      // The worker loaded them: the rest of the studio shows what is loaded now.
      useSession.getState().setModel(got.model);
      useSession.getState().setDataset(got.dataset);
      if (got.needs.length) {
        set({ error: { name: 'RunConfigError', message: `To resume this run, ${got.needs.join('; ')}; then resume.` } });
        await get().refresh();
        return;
      }
    } catch (e) {
      set({ error: toShown(e) });
      await get().refresh();
      return;
    } finally {
      set({ loading: null });
    }
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
