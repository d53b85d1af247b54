/**
 * The Sweep tab: the person's choices (kept across reloads), the plan of the sweep they make (runs,
 * the largest run's memory, from the worker), the sweeps kept in this browser, and the one running
 * now with its live progress. The queue itself runs in the worker (src/worker/sweep.ts); while it
 * does, the studio counts as training (Train is disabled, Runs refreshes).
 */
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { EvalProgress, TrainEvent } from '../../../worker/api';
import type { SweepEvent, SweepPlan, SweepRecord, SweepRequest } from '../../../worker/sweep-types';
import { callback, studio } from '../../client';
import { toShown } from '../../components/ErrorBox';
import { useSession } from '../../stores/session';
import { emptyPicks, type FieldPick, type Picks, type SweepChoices, type SweepField } from './axes';

/** What the running sweep is doing now. */
export interface SweepLive {
  id: string | null;
  /** The run training or being scored (entry index). */
  index: number;
  phase: string;
  step: number;
  totalSteps: number;
  loss: number | null;
  evaluating: { task: string; progress?: EvalProgress } | null;
}

interface SweepState extends SweepChoices {
  /** Bundled task files (and 'validation') every run is scored on. */
  tasks: string[];
  name: string;
  plan: SweepPlan | null;
  planError: string | null;
  sweeps: SweepRecord[];
  /** The sweep shown in the results (default: the newest). */
  shownId: string | null;
  live: SweepLive | null;
  stopping: boolean;
  error: { name: string; message: string } | null;
  pick(field: SweepField, patch: Partial<FieldPick>): void;
  set(p: Partial<Pick<SweepState, 'alpha' | 'tasks' | 'name' | 'shownId'>>): void;
  setPlan(plan: SweepPlan | null, error: string | null): void;
  refresh(): Promise<void>;
  start(req: SweepRequest): Promise<void>;
  continueSweep(id: string): Promise<void>;
  stop(): Promise<void>;
  remove(id: string): Promise<void>;
  dismissError(): void;
}

const idleLive = (id: string | null): SweepLive => ({ id, index: 0, phase: 'Starting', step: 0, totalSteps: 0, loss: null, evaluating: null });

export const useSweep = create<SweepState>()(
  persist(
    (set, get) => {
      const upsert = (r: SweepRecord) => set((s) => ({ sweeps: [r, ...s.sweeps.filter((x) => x.id !== r.id)].sort((a, b) => b.createdAt - a.createdAt) }));
      const onEvent = (e: SweepEvent<TrainEvent>) => {
        if (e.type === 'sweep') {
          const before = get().sweeps.find((x) => x.id === e.sweep.id);
          upsert(e.sweep);
          set((s) => ({ live: s.live && { ...s.live, id: e.sweep.id }, shownId: e.sweep.id }));
          const doneBefore = before?.entries.filter((x) => x.status === 'done').length ?? 0;
          if (e.sweep.entries.filter((x) => x.status === 'done').length !== doneBefore) useSession.getState().libraryChanged();
          return;
        }
        if (e.type === 'evaluating') {
          set((s) => ({ live: s.live && { ...s.live, index: e.index, phase: `Scoring on ${e.task}`, evaluating: { task: e.task, progress: e.progress } } }));
          return;
        }
        const ev = e.event;
        set((s) => {
          if (!s.live) return {};
          const live = { ...s.live, index: e.index, evaluating: null };
          if (ev.type === 'started') Object.assign(live, { step: ev.resumedFrom?.step ?? 0, totalSteps: ev.run.totalSteps, loss: null, phase: 'Preparing' });
          if (ev.type === 'phase') live.phase = ev.message;
          if (ev.type === 'step') Object.assign(live, { step: ev.point.step, totalSteps: ev.totalSteps, loss: ev.point.loss, phase: 'Training' });
          return { live };
        });
      };
      /** Hold the studio's training state for the sweep's whole life. */
      const run = async (id: string | null, begin: (cb: (e: SweepEvent<TrainEvent>) => void) => Promise<SweepRecord>) => {
        const session = useSession.getState();
        if (session.training !== 'idle' || get().live) return;
        set({ live: idleLive(id), error: null, stopping: false });
        session.setTraining('running');
        try {
          upsert(await begin(callback(onEvent)));
        } catch (e) {
          set({ error: toShown(e) });
        } finally {
          set({ live: null, stopping: false });
          useSession.getState().setTraining('idle');
          useSession.getState().libraryChanged();
          await get().refresh();
        }
      };
      return {
        picks: emptyPicks(),
        alpha: 'tied',
        tasks: [],
        name: '',
        plan: null,
        planError: null,
        sweeps: [],
        shownId: null,
        live: null,
        stopping: false,
        error: null,
        pick: (field, patch) => set((s) => ({ picks: { ...s.picks, [field]: { ...s.picks[field], ...patch } } })),
        set: (p) => set(p),
        setPlan: (plan, planError) => set({ plan, planError }),
        async refresh() {
          try {
            set({ sweeps: await studio().listSweeps() });
          } catch (e) {
            set({ error: toShown(e) });
          }
        },
        start: (req) => run(null, (cb) => studio().startSweep(req, cb)),
        continueSweep: (id) => run(id, (cb) => studio().continueSweep(id, cb)),
        async stop() {
          set({ stopping: true });
          await studio().stopSweep();
        },
        async remove(id) {
          try {
            await studio().deleteSweep(id);
          } catch (e) {
            set({ error: toShown(e) });
          }
          await get().refresh();
        },
        dismissError: () => set({ error: null }),
      };
    },
    {
      name: 'finetune-studio:sweep',
      version: 1,
      partialize: (s) => ({ picks: s.picks, alpha: s.alpha, tasks: s.tasks }),
      // Fields added since the choices were saved start unticked.
      merge: (persisted, current) => {
        const saved = (persisted ?? {}) as Partial<Pick<SweepState, 'picks' | 'alpha' | 'tasks'>>;
        return { ...current, ...saved, picks: { ...emptyPicks(), ...(saved.picks ?? {}) } as Picks };
      },
    },
  ),
);

/** Run ids of sweeps that are not finished: their runs are continued through the sweep, not alone. */
export const unfinishedSweepRuns = (sweeps: readonly SweepRecord[]): Set<string> =>
  new Set(sweeps.filter((s) => s.status !== 'completed').flatMap((s) => s.entries.filter((e) => e.status !== 'done' && e.runId).map((e) => e.runId!)));
