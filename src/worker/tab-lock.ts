/**
 * One tab trains at a time. The training worker holds the Web Lock `finetune-studio-training` for
 * a run's whole life (a tab that closes or crashes releases it), and tells the other tabs about
 * the run on the BroadcastChannel of the same name, so they can show it read-only:
 *   worker -> tabs: { type: 'state', run, points, totalSteps, live }   (the whole run so far)
 *                   { type: 'event', event: TrainEvent }                 (each event as it happens)
 *                   { type: 'ended', run }
 *   tab -> worker:  { type: 'hello' }                                    (a tab opened: send the state)
 * Where Web Locks are missing (Node tests, old browsers) there is no lock: training is allowed.
 */
import type { RunRecord, StepPoint, TrainEvent } from './api';

export const TRAINING_LOCK = 'finetune-studio-training';
export const TRAINING_CHANNEL = 'finetune-studio-training';

export type TabMessage =
  | { type: 'hello' }
  | { type: 'state'; run: RunRecord | null; points: StepPoint[]; totalSteps: number; live: boolean }
  | { type: 'event'; event: TrainEvent }
  | { type: 'ended'; run: RunRecord | null };

/** Another tab of this browser is training; this one may only watch. */
export class TrainingElsewhereError extends Error {
  override name = 'TrainingElsewhereError';

  constructor() {
    super('another tab of this studio is training: one GPU run at a time per browser. Its run is shown here read-only; stop it in that tab (or close that tab), then train here.');
  }
}

export interface HeldLock {
  release(): void;
}

type Locks = Pick<LockManager, 'request'>;

function locksOf(): Locks | null {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  return typeof locks?.request === 'function' ? locks : null;
}

/**
 * The training lock if it is free, held until `release()`; null when another tab holds it.
 * Without Web Locks, a lock that holds nothing.
 */
export function acquireTrainingLock(locks: Locks | null = locksOf()): Promise<HeldLock | null> {
  if (!locks) return Promise.resolve({ release() {} });
  return new Promise<HeldLock | null>((resolve, reject) => {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    locks.request(TRAINING_LOCK, { ifAvailable: true }, async (lock) => {
      if (!lock) {
        resolve(null);
        return;
      }
      resolve({ release });
      await held; // the lock is held until the callback's promise settles
    }).catch(reject);
  });
}

/** The worker's side of the channel for one run: forwards events, answers 'hello' with the run so far. */
export function broadcastRun(): { event(e: TrainEvent): void; end(run: RunRecord | null): void } {
  if (typeof BroadcastChannel === 'undefined') return { event() {}, end() {} };
  const channel = new BroadcastChannel(TRAINING_CHANNEL);
  let run: RunRecord | null = null;
  let totalSteps = 0;
  const points: StepPoint[] = [];
  const post = (m: TabMessage) => channel.postMessage(m);
  channel.onmessage = (ev: MessageEvent<TabMessage>) => {
    if (ev.data?.type === 'hello') post({ type: 'state', run, points, totalSteps, live: true });
  };
  return {
    event(e) {
      if (e.type === 'started') {
        run = e.run;
        totalSteps = e.run.totalSteps;
        if (e.resumedFrom) points.splice(0, points.length, ...e.resumedFrom.points); // a resumed run's curve so far
      }
      if (e.type === 'step') {
        points.push(e.point);
        totalSteps = e.totalSteps;
      }
      post({ type: 'event', event: e });
    },
    end(final) {
      post({ type: 'ended', run: final ?? run });
      channel.close();
    },
  };
}
