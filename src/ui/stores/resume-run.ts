/**
 * Continue a run from its checkpoint (interrupted by a reload or a lost GPU, or stopped on
 * purpose): first load what it was trained on where the worker kept it (per-file progress), then
 * hand it to the live run (the Train dashboard). Says what only the person can load instead.
 */
import type { FileProgress } from '../../worker/api';
import { callback, studio } from '../client';
import { toShown } from '../components/ErrorBox';
import { resumeInterruptedRun } from './live-run';
import { useSession } from './session';

export type ResumeOutcome = { ok: true } | { ok: false; error: { name: string; message: string } };

/** Resolves when the run ends (or could not start); `onLoaded` is called once the inputs are loaded, before training. */
export async function resumeWithInputs(runId: string, onProgress: (p: FileProgress) => void = () => {}, onLoaded: () => void = () => {}): Promise<ResumeOutcome> {
  try {
    const got = await studio().loadRunInputs(runId, callback(onProgress));
    // The worker loaded them: the rest of the studio shows what is loaded now.
    useSession.getState().setModel(got.model);
    useSession.getState().setDataset(got.dataset);
    if (got.needs.length) return { ok: false, error: { name: 'RunConfigError', message: `To resume this run, ${got.needs.join('; ')}; then resume.` } };
  } catch (e) {
    return { ok: false, error: toShown(e) };
  }
  onLoaded();
  await resumeInterruptedRun(runId);
  return { ok: true };
}
