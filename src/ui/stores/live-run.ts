/**
 * The run training now (or last) in this tab: its record, every logged point (all kept; the
 * charts downsample what they draw), its phase and outcome. Points arriving from the worker are
 * batched into one store update per animation frame, so a fast run never floods React.
 *
 * Events come on their own message channel (the callback), the result on the worker's: an event
 * can arrive after the run has ended. Such late events still add their points, but never bring
 * back a phase ("Saving the adapter") or a status of a run that is over.
 */
import { create } from 'zustand';
import type { AdapterMeta, FullModelMeta, RunRecord, StartOptions, StepPoint, TrainEvent, TrainPhase, TrainResult, TransferFigures } from '../../worker/api';
import type { RunConfig } from '../../config/run-config';
import { callback, studio } from '../client';
import { toShown } from '../components/ErrorBox';
import { useSession } from './session';

export type LiveStatus = 'idle' | 'starting' | 'training' | 'paused' | 'stopping' | 'done' | 'stopped' | 'failed';

/** A run that is over (done, stopped or failed). */
export const isOver = (s: LiveStatus) => s === 'done' || s === 'stopped' || s === 'failed';

interface LiveRunState {
  status: LiveStatus;
  phase: { phase: TrainPhase; message: string; progress?: number; transfer?: TransferFigures } | null;
  run: RunRecord | null;
  points: StepPoint[];
  totalSteps: number;
  error: { name: string; message: string } | null;
  adapter: AdapterMeta | null;
  /** A full finetuning run's model, kept in the library instead of an adapter. */
  fullModel: FullModelMeta | null;
  /** The last checkpoint of this run: the step it holds, and why the latest save failed (if it did). */
  checkpoint: { step: number; at: number; error?: string } | null;
  /** What the worker warned about during the run (e.g. a dataset too big to keep for resuming). */
  warnings: string[];
  /** Validation loss of the starting weights (before step 1). */
  baseValLoss: number | null;
}

const idle: LiveRunState = { status: 'idle', phase: null, run: null, points: [], totalSteps: 0, error: null, adapter: null, fullModel: null, checkpoint: null, warnings: [], baseValLoss: null };

/** Whether the run of this tab has ended (its result arrived); late events then change no phase or status. */
let ended = true;

export const useLiveRun = create<LiveRunState>()(() => ({ ...idle }));

let pending: StepPoint[] = [];
let frame = 0;
const schedule = typeof requestAnimationFrame === 'function' ? requestAnimationFrame : (f: () => void) => setTimeout(f, 16) as unknown as number;

function flushPoints(): void {
  frame = 0;
  if (!pending.length) return;
  const add = pending;
  pending = [];
  useLiveRun.setState((s) => ({ points: s.points.concat(add) }));
}

function onEvent(e: TrainEvent): void {
  if (ended && e.type !== 'step' && e.type !== 'warning') return;
  switch (e.type) {
    case 'started':
      // A resumed run brings its curve up to the checkpoint; the new points continue it.
      useLiveRun.setState({
        run: e.run, totalSteps: e.run.totalSteps, baseValLoss: e.run.baseValLoss ?? null,
        ...(e.resumedFrom ? { points: e.resumedFrom.points, checkpoint: { step: e.resumedFrom.step, at: Date.now() } } : {}),
      });
      useSession.getState().libraryChanged();
      break;
    case 'baseline':
      useLiveRun.setState({ baseValLoss: e.evalLoss });
      break;
    case 'phase':
      useLiveRun.setState({ phase: { phase: e.phase, message: e.message, progress: e.progress, transfer: e.transfer }, ...(e.phase === 'training' ? { status: 'training' as const } : {}) });
      break;
    case 'step':
      if (ended && useLiveRun.getState().points.some((p) => p.step === e.point.step)) return;
      pending.push(e.point);
      if (!frame) frame = schedule(flushPoints);
      break;
    case 'checkpoint':
      // A failed save keeps the step of the last good one (training goes on).
      useLiveRun.setState((st) => ({ checkpoint: e.error ? { step: st.checkpoint?.step ?? 0, at: st.checkpoint?.at ?? 0, error: e.error } : { step: e.step, at: Date.now() } }));
      break;
    case 'warning':
      useLiveRun.setState((st) => ({ warnings: [...st.warnings, e.message] }));
      break;
    case 'paused':
      useLiveRun.setState({ status: 'paused' });
      useSession.getState().setTraining('paused');
      break;
    case 'resumed':
      useLiveRun.setState({ status: 'training' });
      useSession.getState().setTraining('running');
      break;
  }
}

export function startRun(config: RunConfig, options: StartOptions = {}): Promise<void> {
  return live((cb) => studio().startTraining(config, cb, options));
}

/** Continue an interrupted run from its last checkpoint, on the Train dashboard. */
export function resumeInterruptedRun(runId: string): Promise<void> {
  return live((cb) => studio().resumeRun(runId, cb));
}

async function live(begin: (cb: (e: TrainEvent) => void) => Promise<TrainResult>): Promise<void> {
  const session = useSession.getState();
  if (session.training !== 'idle') return;
  pending = [];
  ended = false;
  useLiveRun.setState({ ...idle, status: 'starting' });
  session.setTraining('running');
  session.setTab('train');
  try {
    const result = await begin(callback(onEvent));
    ended = true;
    flushPoints();
    useLiveRun.setState({ status: result.run.status === 'stopped' ? 'stopped' : 'done', run: result.run, adapter: result.adapter ?? null, fullModel: result.fullModel ?? null, phase: null });
  } catch (e) {
    ended = true;
    flushPoints();
    useLiveRun.setState({ status: 'failed', error: toShown(e), phase: null });
  } finally {
    useSession.getState().setTraining('idle');
    useSession.getState().libraryChanged();
  }
}

export const pauseRun = () => studio().pause();
export const resumeRun = () => studio().resume();
export function stopRun(): Promise<void> {
  useLiveRun.setState({ status: 'stopping' });
  return studio().stop();
}
