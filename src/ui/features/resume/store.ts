/**
 * Interrupted runs that can continue from a checkpoint (after a reload, a crash or a lost GPU):
 * asked of the worker when the studio opens, whenever a run ends and whenever the loaded model or
 * dataset changes. Resuming first loads what the run was trained on where the worker kept it (the
 * model through the Hub cache, the dataset's copy), with per-file progress, then hands the run to
 * the live-run store (the Train dashboard); discarding deletes the checkpoint and kept inputs.
 */
import { create } from 'zustand';
import type { FileProgress, ResumableRun } from '../../../worker/api';
import { studio } from '../../client';
import { toShown } from '../../components/ErrorBox';
import { resumeWithInputs } from '../../stores/resume-run';

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
    const onProgress = (p: FileProgress) => set((s) => ({ loading: s.loading && { ...s.loading, progress: { ...s.loading.progress, [p.file]: p } } }));
    // The inputs load first (the banner shows their progress), then the run takes over.
    const outcome = await resumeWithInputs(runId, onProgress, () => set({ loading: null }));
    set({ loading: null, ...(outcome.ok ? {} : { error: outcome.error }) });
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
