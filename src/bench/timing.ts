/**
 * Wall-clock timing of GPU work: submit, then wait for the queue to drain. One warm-up run (it
 * may include the driver's compile), one timed run, then as many more runs in one submission as
 * fit the budget; the figure is the faster of the single run and the batch's mean.
 */
import type { PreparedOp } from '../engine/kernels/common';

export interface Timed {
  /** Milliseconds per run. */
  ms: number;
  /** Timed runs behind the figure (besides the warm-up). */
  runs: number;
}

export const gflops = (flops: number, ms: number) => flops / ms / 1e6;

async function submitRuns(device: GPUDevice, op: PreparedOp, runs: number): Promise<number> {
  const t0 = performance.now();
  const enc = device.createCommandEncoder({ label: `bench ${op.label}` });
  const pass = enc.beginComputePass({ label: `bench ${op.label}` });
  for (let i = 0; i < runs; i++) op.encode(pass);
  pass.end();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  return performance.now() - t0;
}

export async function timeOp(device: GPUDevice, op: PreparedOp, budgetMs: number, maxRuns = 16, warm = true): Promise<Timed> {
  if (warm) await submitRuns(device, op, 1);
  const one = await submitRuns(device, op, 1);
  const more = Math.min(maxRuns - 1, Math.floor((budgetMs - one) / one));
  if (more < 1) return { ms: one, runs: 1 };
  const batch = (await submitRuns(device, op, more)) / more;
  return { ms: Math.min(one, batch), runs: 1 + more };
}

/** The same for asynchronous work that ends when `run` resolves (e.g. a tfjs op and its readback). */
export async function timeAsync(run: () => Promise<void>, budgetMs: number, maxRuns = 16, warm = true): Promise<Timed> {
  if (warm) await run();
  let t0 = performance.now();
  await run();
  const one = performance.now() - t0;
  const more = Math.min(maxRuns - 1, Math.floor((budgetMs - one) / one));
  if (more < 1) return { ms: one, runs: 1 };
  t0 = performance.now();
  for (let i = 0; i < more; i++) await run();
  const batch = (performance.now() - t0) / more;
  return { ms: Math.min(one, batch), runs: 1 + more };
}
