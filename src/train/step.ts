/**
 * Submitting the prepared training graph: one submit per micro-batch (its dropout streams and
 * batch are written just before), one for the optimizer. No readback here: the step's loss and
 * gradient statistics are copied on the GPU into a row of the metrics buffer, which the trainer
 * reads once per logging interval.
 */
import { MapMode } from '../engine/flags';
import { createStagingBuffer } from '../engine/pool';
import { readBuffers } from '../engine/readback';
import { encodeOps, METRICS_ROW, setDropout, type TrainGraph } from '../model/graph/train-graph';
import type { MicroBatch } from '../config/micro-batch';


function writeBatch(g: TrainGraph, batch: MicroBatch): void {
  const n = g.dims.N;
  if (batch.tokens.length !== n || batch.targets.length !== n) {
    throw new RangeError(`micro-batch must hold B*T = ${n} tokens and targets, got ${batch.tokens.length} and ${batch.targets.length}`);
  }
  const q = g.engine.gpu.device.queue;
  q.writeBuffer(g.act.tokens, 0, batch.tokens);
  q.writeBuffer(g.act.targets, 0, batch.targets);
}

/** Forward + backward of micro-batch `micro` of optimizer step `step` (0-based); LoRA gradients accumulate. */
export function submitMicroBatch(g: TrainGraph, batch: MicroBatch, step: number, micro: number): void {
  writeBatch(g, batch);
  setDropout(g, step, micro, true);
  const enc = g.engine.gpu.device.createCommandEncoder({ label: `step ${step} micro ${micro}` });
  encodeOps(enc, [...(micro === 0 ? [g.zeroGrads, g.zeroStepLoss] : []), ...g.forward, ...g.backward, g.accumulateLoss], 'train micro-batch');
  g.engine.gpu.device.queue.submit([enc.finish()]);
}

/**
 * Clip and apply the accumulated gradients with learning rate `lr` at optimizer step `step`
 * (0-based), and record [loss, grad norm, clip coefficient, non-finite flag] in the metrics row
 * `step % logEvery`. Sophia: every sophiaHessianEvery steps, the Hessian estimate follows.
 */
export function submitOptimizerStep(g: TrainGraph, step: number, lr: number): void {
  g.optimizer.setStep(step + 1, lr);
  const enc = g.engine.gpu.device.createCommandEncoder({ label: `step ${step} optimizer` });
  encodeOps(enc, [g.gradNorm, g.optimizer], 'optimizer');
  const row = (step % g.run.logEvery) * METRICS_ROW * 4;
  enc.copyBufferToBuffer(g.stepLoss, 0, g.metrics, row, 4);
  enc.copyBufferToBuffer(g.gradStats, 4, g.metrics, row + 4, 12); // norm, clip coefficient, non-finite flag
  g.engine.gpu.device.queue.submit([enc.finish()]);
  if (g.hessian && (step + 1) % g.run.sophiaHessianEvery === 0) submitHessianEstimate(g, step);
}

/**
 * Sophia's Gauss-Newton-Bartlett estimate after optimizer step `step` (0-based), as
 * Liuhong99/Sophia's train_sophiag.py places it (after the step of every k-th iteration): on the
 * last micro-batch of the step, still in the graph's token buffer, with dropout off, the forward,
 * labels sampled from the model's own softmax into the valid targets, the backward of the mean loss
 * on them into the (free again) gradient buffer, and h = beta2 h + (1 - beta2) B g_hat^2. The next
 * micro-batch rewrites the targets and zeroes the gradients. All on the GPU, no readback.
 */
export function submitHessianEstimate(g: TrainGraph, step: number): void {
  const h = g.hessian;
  if (!h) throw new Error(`the ${g.run.optimizer} optimizer keeps no Hessian estimate`);
  setDropout(g, step, 0, false);
  h.setStep(step);
  const enc = g.engine.gpu.device.createCommandEncoder({ label: `step ${step} hessian estimate` });
  encodeOps(enc, [g.zeroGrads, ...g.forward, ...h.sample, ...g.backward, h.update], 'sophia hessian estimate');
  g.engine.gpu.device.queue.submit([enc.finish()]);
}

export interface StepMetrics {
  loss: number;
  gradNorm: number;
  clipCoef: number;
  nonFinite: boolean;
}

/**
 * One mappable copy of `g.metrics` per graph, reused by every metrics read (the trainer has at most
 * one read in flight); a read that finds it busy falls back to a transient buffer. Destroyed by
 * `releaseStepReadback` when the run ends (the trainer does it), not left to the garbage collector.
 */
const metricsStaging = new WeakMap<TrainGraph, { buffer: GPUBuffer; release(): void; busy: boolean }>();

/** Destroy the graph's metrics staging buffer (a later read makes a new one). */
export function releaseStepReadback(g: TrainGraph): void {
  metricsStaging.get(g)?.release();
  metricsStaging.delete(g);
}

/** Read the metrics rows of the last `count` steps ending at `lastStep` (one copy, queued now; one map). */
export async function readStepMetrics(g: TrainGraph, lastStep: number, count: number): Promise<StepMetrics[]> {
  const device = g.engine.gpu.device;
  let staging = metricsStaging.get(g);
  if (!staging) {
    staging = { ...createStagingBuffer(device, g.metrics.size, 'metrics readback'), busy: false };
    metricsStaging.set(g, staging);
  }
  let bytes: ArrayBuffer;
  if (staging.busy) {
    [bytes] = await readBuffers(device, [{ buffer: g.metrics, offset: 0, size: g.metrics.size }]);
  } else {
    const s = staging;
    s.busy = true;
    try {
      const enc = device.createCommandEncoder({ label: 'metrics readback' });
      enc.copyBufferToBuffer(g.metrics, 0, s.buffer, 0, g.metrics.size);
      device.queue.submit([enc.finish()]);
      await s.buffer.mapAsync(MapMode.READ);
      bytes = s.buffer.getMappedRange().slice(0);
      s.buffer.unmap();
    } finally {
      s.busy = false;
    }
  }
  const f = new Float32Array(bytes);
  const u = new Uint32Array(bytes);
  const out: StepMetrics[] = [];
  for (let s = lastStep - count + 1; s <= lastStep; s++) {
    const r = (s % g.run.logEvery) * METRICS_ROW;
    out.push({ loss: f[r], gradNorm: f[r + 1], clipCoef: f[r + 2], nonFinite: u[r + 3] !== 0 });
  }
  return out;
}

/** Mean loss over micro-batches with dropout off and no gradient work (validation). */
export async function evaluate(g: TrainGraph, batches: readonly MicroBatch[]): Promise<number> {
  if (batches.length === 0) throw new RangeError('evaluate: no validation batches');
  g.accumulateEvalLoss.setScalar(1 / batches.length);
  setDropout(g, 0, 0, false);
  batches.forEach((batch, i) => {
    writeBatch(g, batch);
    const enc = g.engine.gpu.device.createCommandEncoder({ label: `eval ${i}` });
    encodeOps(enc, [...(i === 0 ? [g.zeroEvalLoss] : []), ...g.forward, g.accumulateEvalLoss], 'eval');
    g.engine.gpu.device.queue.submit([enc.finish()]);
  });
  const [bytes] = await readBuffers(g.engine.gpu.device, [{ buffer: g.evalLoss, offset: 0, size: 4 }]);
  return new Float32Array(bytes)[0];
}

/** Forward only (dropout off) of one batch; the loss, logits of a single-chunk head etc. stay on the GPU. */
export function submitForward(g: TrainGraph, batch: MicroBatch): void {
  writeBatch(g, batch);
  setDropout(g, 0, 0, false);
  const enc = g.engine.gpu.device.createCommandEncoder({ label: 'forward' });
  encodeOps(enc, g.forward, 'forward');
  g.engine.gpu.device.queue.submit([enc.finish()]);
}
