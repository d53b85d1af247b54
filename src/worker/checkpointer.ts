/**
 * A training session's checkpoints: decides when one is due (every N steps, or after N minutes of
 * training), and saves one between steps: the run's points first (so the curve the checkpoint
 * points into is stored), then one readback of the GPU state, then one atomic write. A state with
 * NaN or infinity is never saved (the last good checkpoint stays); a save the storage refuses (the
 * quota is full) is reported and training goes on.
 */
import type { Fingerprints } from '../config/fingerprints';
import type { CheckpointInfo, CheckpointStore } from '../io/stores/checkpoints';
import type { TrainGraph } from '../model/graph/train-graph';
import { checkpointDue, dataPosition, isFiniteState, snapshotTrainState } from '../train/checkpoint';
import type { EarlyStoppingState } from '../train/early-stopping';
import type { RunConfig } from '../config/run-config';
import { learningRateAt } from '../train/schedule';
import { NonFiniteError } from '../train/trainer';
import type { RunRecorder } from './run-recorder';

export class Checkpointer {
  private sinceLastMs = 0;
  /** The latest checkpoint of this run (one restored from counts). */
  last: { step: number } | null;

  constructor(
    private readonly store: CheckpointStore,
    private readonly rec: RunRecorder,
    private readonly run: RunConfig,
    private readonly fingerprints: Fingerprints,
    private readonly totalSteps: number,
    private readonly examples: number,
    resumedAt: number | null,
  ) {
    this.last = resumedAt === null ? null : { step: resumedAt };
  }

  /** Training time passed (pauses excluded). */
  elapse(ms: number): void {
    this.sinceLastMs += Math.max(0, ms);
  }

  /** Before step `step` (0-based): whether to save now (the caller flushes the trainer's metrics first). */
  due(step: number): boolean {
    return step > 0 && checkpointDue(this.run, step, this.last?.step ?? 0, this.sinceLastMs);
  }

  /**
   * Save the state after `step` optimizer steps (with early stopping's, `early`). Throws NonFiniteError
   * when the state holds NaN or infinity (nothing is written); returns the storage's error, without
   * throwing, when the write fails.
   */
  async save(g: TrainGraph, step: number, early: EarlyStoppingState | null = null): Promise<{ info: CheckpointInfo } | { error: Error }> {
    try {
      await this.rec.save();
    } catch (e) {
      return { error: e as Error };
    }
    const state = await snapshotTrainState(g, step, early);
    if (!isFiniteState(state)) throw new NonFiniteError(step, 'LoRA state after this step');
    try {
      const info = await this.store.save({
        runId: this.rec.record.id, step, totalSteps: this.totalSteps,
        schedule: { kind: this.run.schedule, nextStep: step, nextLr: learningRateAt(this.run, step, this.totalSteps) },
        rng: { seed: this.run.seed, stateless: true },
        data: dataPosition(step, this.run, this.examples),
        optimizer: { kind: this.run.optimizer, moments: state.moments },
        params: state.params,
        ...(state.earlyStopping ? { earlyStopping: state.earlyStopping } : {}),
        points: { count: this.rec.pointCount, elapsedMs: this.rec.last?.elapsedMs ?? 0 },
        fingerprints: this.fingerprints,
      });
      this.last = { step };
      this.sinceLastMs = 0;
      return { info };
    } catch (e) {
      return { error: e as Error };
    }
  }
}
