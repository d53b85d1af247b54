/**
 * The Evaluate panel's choices (task, base and/or adapter, exact-match options), the evaluation in
 * progress and its last report. The evaluation itself runs in the worker (src/worker/evaluation.ts).
 */
import { create } from 'zustand';
import { DEMO_TASKS, type EvalProgress, type EvalReport, type EvalRequest } from '../../../worker/api';
import { callback, studio } from '../../client';
import { toShown } from '../../components/ErrorBox';

/** A bundled task's file name, 'validation' (the loaded dataset's split) or 'upload'. */
export type TaskChoice = string;

interface EvaluateState {
  task: TaskChoice;
  upload: File | null;
  base: boolean;
  /** '' = no adapter; null = not chosen yet (the newest adapter). */
  adapterId: string | null;
  maxNewTokens: number;
  normalizeWhitespace: boolean;
  normalizeCase: boolean;
  running: boolean;
  progress: EvalProgress | null;
  report: EvalReport | null;
  error: { name: string; message: string } | null;
  set(p: Partial<Pick<EvaluateState, 'task' | 'upload' | 'base' | 'adapterId' | 'maxNewTokens' | 'normalizeWhitespace' | 'normalizeCase'>>): void;
  /** Evaluate with `adapterId` ('' = none; `full:<id>`: a fully finetuned model), the panel's effective choice. */
  run(adapterId: string): Promise<void>;
}

/** The choice's prefix for a fully finetuned model (the select lists them after the adapters). */
export const FULL = 'full:';

export const useEvaluate = create<EvaluateState>()((set, get) => ({
  task: DEMO_TASKS[0].file,
  upload: null,
  base: true,
  adapterId: null,
  maxNewTokens: 32,
  normalizeWhitespace: true,
  normalizeCase: false,
  running: false,
  progress: null,
  report: null,
  error: null,
  set: (p) => set({ ...p, error: null }),
  async run(adapterId) {
    const s = get();
    if (s.running) return;
    const task: EvalRequest['task'] | null = s.task === 'validation' ? { kind: 'validation' }
      : s.task === 'upload' ? (s.upload ? { kind: 'upload', file: s.upload } : null)
      : { kind: 'bundled', file: s.task };
    if (!task) {
      set({ error: { name: 'Error', message: 'choose a task file to upload first' } });
      return;
    }
    set({ running: true, progress: null, error: null, report: null });
    try {
      const report = await studio().evaluateTask(
        {
          task, base: s.base, adapterId: adapterId.startsWith(FULL) ? null : adapterId || null,
          fullModelId: adapterId.startsWith(FULL) ? adapterId.slice(FULL.length) : null, exact: { maxNewTokens: s.maxNewTokens, normalizeWhitespace: s.normalizeWhitespace, normalizeCase: s.normalizeCase },
        },
        callback((p: EvalProgress) => set({ progress: p })),
      );
      set({ report });
    } catch (e) {
      set({ error: toShown(e) });
    } finally {
      set({ running: false, progress: null });
    }
  },
}));
