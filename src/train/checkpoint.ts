/**
 * The GPU state of a run between two optimizer steps, as a checkpoint keeps it: the flat LoRA
 * parameters and the optimizer's moments (AdamW m and v, SGD's momentum buffer), read back in one
 * copy and one map (several for a state larger than one staging buffer), and written back into a
 * freshly built graph. The state is kept whole, in the layout's order: how the GPU cuts it into
 * chunks depends on the device's limits, so a checkpoint resumes on a device with other limits.
 *
 * Everything else a resumed run needs is a function of the step count, so it is not stored as
 * state: the data order is `dataOrder(seed, epoch)` and the position in it is
 * `step * gradAccumulation` micro-batches (see `dataPosition`); dropout masks are drawn from the
 * stateless stream of (seed, step, micro-batch, layer, module); the learning rate is
 * `learningRateAt(step, total)`; AdamW's bias correction counts from the step. Gradients are
 * zeroed at the start of every step, so they are not part of the state either.
 */
import { readFlats, writeFlat } from '../model/graph/lora-state';
import type { TrainGraph } from '../model/graph/train-graph';
import type { RunConfig } from '../config/run-config';
import type { EarlyStoppingState } from './early-stopping';

export interface TrainState {
  /** Optimizer steps done: training continues with step index `step` (0-based). */
  step: number;
  /** (P) flat LoRA parameters in the layout's order. */
  params: Float32Array<ArrayBuffer>;
  /**
   * AdamW: [m (P), v (P)]; SGD with momentum: [momentum (P)]; plain SGD: []; Lion: [m (P)];
   * Sophia: [m (P), h (P)]; Adafactor: [second moment (rows + cols per tensor)] (+ [m (P)] with beta1).
   */
  moments: Float32Array<ArrayBuffer>[];
  /**
   * Early stopping's state, with the best evaluation's parameters (P) when there is one: a resumed
   * run still keeps the best adapter found before the interruption, and its patience counts on.
   */
  earlyStopping?: EarlyStoppingState & { bestParams?: Float32Array<ArrayBuffer> };
}

/**
 * Read the parameters and optimizer moments back (one readback; call between steps, never per
 * step), and the best evaluation's parameters when `early` has a best.
 */
export async function snapshotTrainState(g: TrainGraph, step: number, early: EarlyStoppingState | null = null): Promise<TrainState> {
  const withBest = early?.best && g.lora.best ? [g.lora.best] : [];
  const read = await readFlats(g.engine, [g.lora.params, ...g.lora.moments, ...withBest]);
  const bestParams = withBest.length ? read.pop() : undefined;
  const [params, ...moments] = read;
  return { step, params, moments, ...(early ? { earlyStopping: { ...early, ...(bestParams ? { bestParams } : {}) } } : {}) };
}

/** Write a saved state into a graph built for the same model and run (before its first step). */
export function restoreTrainState(g: TrainGraph, s: TrainState): void {
  const P = g.layout.length;
  if (s.params.length !== P) {
    throw new RangeError(`checkpoint holds ${s.params.length} LoRA parameters but this run's layout has ${P}; it belongs to another rank or target set`);
  }
  // Each state vector's own length: P, or Adafactor's factored second moment.
  const want = g.lora.moments.map((v) => v.chunks.reduce((n, c) => n + c.length, 0));
  if (s.moments.length !== want.length || s.moments.some((m, i) => m.length !== want[i])) {
    throw new RangeError(`checkpoint holds ${s.moments.length} optimizer buffers of ${s.moments.map((m) => m.length).join(', ') || 'no'} values; `
      + `this run's ${g.run.optimizer} needs ${want.length} of ${want.join(', ') || 'no'} values`);
  }
  const q = g.engine.gpu.device.queue;
  writeFlat(q, g.lora.params, s.params);
  s.moments.forEach((m, i) => writeFlat(q, g.lora.moments[i], m));
  const bestParams = s.earlyStopping?.bestParams;
  if (bestParams && g.lora.best) {
    if (bestParams.length !== P) throw new RangeError(`checkpoint's best parameters hold ${bestParams.length} values; this run's layout has ${P}`);
    writeFlat(q, g.lora.best, bestParams);
  }
}

/** The early-stopping state a resumed run continues from (`TrainOptions.earlyStopping`), when the checkpoint kept one. */
export function resumedEarlyStopping(s: Pick<TrainState, 'earlyStopping'>): EarlyStoppingState | undefined {
  const e = s.earlyStopping;
  // A best without its parameters cannot be exported: start the search again rather than name a step whose adapter is gone.
  if (!e || (e.best && !e.bestParams)) return undefined;
  return { best: e.best, sinceBest: e.sinceBest };
}

/** True when every parameter and moment is a finite number (a checkpoint never keeps NaN or infinity). */
export function isFiniteState(s: TrainState): boolean {
  for (const a of [s.params, ...s.moments, ...(s.earlyStopping?.bestParams ? [s.earlyStopping.bestParams] : [])]) {
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  }
  return true;
}

export interface DataPosition {
  /** The epoch whose seeded order the next micro-batch comes from (0-based). */
  epoch: number;
  /** Index of the next micro-batch within that epoch. */
  microBatch: number;
  microBatchesPerEpoch: number;
}

/** Where in the data order optimizer step `step` (0-based) starts: every step takes gradAccumulation micro-batches. */
export function dataPosition(step: number, run: Pick<RunConfig, 'gradAccumulation' | 'microBatch'>, examples: number): DataPosition {
  const microBatchesPerEpoch = Math.ceil(examples / run.microBatch);
  const consumed = step * run.gradAccumulation;
  return { epoch: Math.floor(consumed / microBatchesPerEpoch), microBatch: consumed % microBatchesPerEpoch, microBatchesPerEpoch };
}

/**
 * When to save: every `checkpointEverySteps` steps, or (0) after `checkpointEveryMinutes` of
 * training time (pauses excluded by the caller) since the last save.
 */
export function checkpointDue(run: Pick<RunConfig, 'checkpointEverySteps' | 'checkpointEveryMinutes'>, step: number, lastStep: number, trainingMsSinceLast: number): boolean {
  if (step <= lastStep) return false;
  if (run.checkpointEverySteps > 0) return step % run.checkpointEverySteps === 0;
  return trainingMsSinceLast >= run.checkpointEveryMinutes * 60_000;
}
