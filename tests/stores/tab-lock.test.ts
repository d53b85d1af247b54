/**
 * The training lock over a minimal LockManager with Web Locks' `ifAvailable` semantics (the
 * browser's own is exercised by e2e/two-tabs.spec.ts): a second tab gets null while the first
 * holds it, and the lock is free again once released; without Web Locks, training is allowed.
 */
import { describe, expect, it } from 'vitest';
import { acquireTrainingLock, TRAINING_LOCK, TrainingElsewhereError } from '../../src/worker/tab-lock';
import { errorFromPlain, errorToPlain } from '../../src/worker/errors';

function fakeLocks() {
  const held = new Set<string>();
  return {
    held,
    async request(name: string, opts: LockOptions, cb: (lock: Lock | null) => Promise<unknown>) {
      if (!opts.ifAvailable) throw new Error('the studio only asks with ifAvailable');
      if (held.has(name)) return cb(null);
      held.add(name);
      try {
        return await cb({ name, mode: 'exclusive' } as Lock);
      } finally {
        held.delete(name);
      }
    },
  } as unknown as Pick<LockManager, 'request'> & { held: Set<string> };
}

describe('the training lock', () => {
  it('is exclusive while held and free after release', async () => {
    const locks = fakeLocks();
    const first = await acquireTrainingLock(locks);
    expect(first).not.toBeNull();
    expect(locks.held.has(TRAINING_LOCK)).toBe(true);
    expect(await acquireTrainingLock(locks)).toBeNull();
    first!.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(locks.held.size).toBe(0);
    const again = await acquireTrainingLock(locks);
    expect(again).not.toBeNull();
    again!.release();
  });

  it('without Web Locks, training is allowed', async () => {
    const lock = await acquireTrainingLock(null);
    expect(lock).not.toBeNull();
    lock!.release();
  });

  it('the refusal says why and survives the worker boundary', () => {
    const e = errorFromPlain(errorToPlain(new TrainingElsewhereError()));
    expect(e).toBeInstanceOf(TrainingElsewhereError);
    expect(e.message).toMatch(/another tab of this studio is training.*read-only.*stop it in that tab/);
  });
});
