/**
 * Submitting the prepared training graph: one submit per micro-batch (its dropout streams and
 * batch are written just before), one for the optimizer. No readback here: the step's loss and
 * gradient statistics are copied on the GPU into a row of the metrics buffer, which the trainer
 * reads once per logging interval.
 */
import { BufferUsage, MapMode } from '../engine/flags';
import { readBuffers } from '../engine/readback';
import { adamwParams, encodeOps, METRICS_ROW, setDropout, sgdParams, type TrainGraph } from '../model/graph/train-graph';
import type { AdamWParams, SgdParams } from '../reference/optim';
import type { PreparedOptimizer } from '../engine/kernels/optim';
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
 * `step % logEvery`.
 */
export function submitOptimizerStep(g: TrainGraph, step: number, lr: number): void {
  if (g.run.optimizer === 'adamw') (g.optimizer as PreparedOptimizer<AdamWParams>).setStep(step + 1, adamwParams(g.run, lr));
  else (g.optimizer as PreparedOptimizer<SgdParams>).setStep(step + 1, sgdParams(g.run, lr));
  const enc = g.engine.gpu.device.createCommandEncoder({ label: `step ${step} optimizer` });
  encodeOps(enc, [g.gradNorm, g.optimizer], 'optimizer');
  const row = (step % g.run.logEvery) * METRICS_ROW * 4;
  enc.copyBufferToBuffer(g.stepLoss, 0, g.metrics, row, 4);
  enc.copyBufferToBuffer(g.gradStats, 4, g.metrics, row + 4, 12); // norm, clip coefficient, non-finite flag
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
 * one read in flight); a read that finds it busy falls back to a transient buffer.
 */
const metricsStaging = new WeakMap<TrainGraph, { buffer: GPUBuffer; busy: boolean }>();

/** Read the metrics rows of the last `count` steps ending at `lastStep` (one copy, queued now; one map). */
export async function readStepMetrics(g: TrainGraph, lastStep: number, count: number): Promise<StepMetrics[]> {
  const device = g.engine.gpu.device;
  let staging = metricsStaging.get(g);
  if (!staging) {
    staging = { buffer: device.createBuffer({ label: 'metrics readback', size: g.metrics.size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST }), busy: false };
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
