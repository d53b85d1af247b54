/**
 * Timing of GPU work, by two clocks. Wall: submit, wait for the queue to drain. Device: on a CPU
 * adapter (SwiftShader) the runner reads the browser GPU process's CPU time, whose threads are the
 * device: divided by the cores they run on, it is the device's busy time, and unlike wall time it
 * does not grow when other processes load the machine. Each figure is the fastest of several
 * measurements after a warm-up (which may include the driver's compile); `interleave` alternates
 * the contenders measurement by measurement, so that a change in load hits them alike.
 */
import type { PreparedOp } from '../engine/kernels/common';

export interface Timed {
  /** Wall milliseconds per run: the fastest measurement. */
  ms: number;
  /** Device milliseconds per run (see DeviceClock), or null without a device clock. */
  deviceMs: number | null;
  /** Measurements behind the figure (besides the warm-up), and runs in each. */
  measurements: number;
  runsEach: number;
}

/** The device's busy time so far in ms, or null where it cannot be read (a real GPU). */
export type DeviceClock = () => Promise<number | null>;

export const gflops = (flops: number, ms: number | null) => (ms === null || !(ms > 0) ? null : flops / ms / 1e6);

/** One run of a prepared op: its own submission, waited for. */
export function opRun(device: GPUDevice, op: PreparedOp): () => Promise<void> {
  return async () => {
    const enc = device.createCommandEncoder({ label: `bench ${op.label}` });
    const pass = enc.beginComputePass({ label: `bench ${op.label}` });
    op.encode(pass);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
}

export interface Contender {
  run: () => Promise<void>;
  /** Skip the warm-up and run once per measurement (a kernel too slow to run twice, e.g. the naive one). */
  cold?: boolean;
  /** At most this many measurements (default: as many as the rounds). */
  maxMeasurements?: number;
}

export interface TimingOptions {
  clock: DeviceClock;
  /** Cores the device's threads share (device time = CPU time / cores). */
  cores: number;
  /** Shortest measurement, ms: short runs are repeated to reach it (the CPU clock ticks every 10 ms). */
  minMeasureMs: number;
}

/**
 * Warm every contender up, then measure them in rounds (one measurement each per round, in turn)
 * until `budgetMs` is spent or `maxRounds` are done; at least one round.
 */
export async function interleave(contenders: Contender[], t: TimingOptions, budgetMs: number, maxRounds = 5): Promise<Timed[]> {
  const reps: number[] = [];
  for (const c of contenders) {
    if (c.cold) {
      reps.push(1);
      continue;
    }
    await c.run();
    const t0 = performance.now();
    await c.run();
    reps.push(Math.min(200, Math.max(1, Math.ceil(t.minMeasureMs / Math.max(1e-3, performance.now() - t0)))));
  }
  const best = contenders.map(() => ({ ms: Infinity, deviceMs: Infinity as number | null, n: 0 }));
  const t0 = performance.now();
  for (let round = 0; round < maxRounds; round++) {
    for (const [i, c] of contenders.entries()) {
      if (best[i].n >= (c.maxMeasurements ?? maxRounds)) continue;
      const c0 = await t.clock();
      const w0 = performance.now();
      for (let r = 0; r < reps[i]; r++) await c.run();
      const wall = (performance.now() - w0) / reps[i];
      const c1 = await t.clock();
      // A CPU delta of zero (shorter than the clock's tick) is no measurement.
      const dev = c0 === null || c1 === null || c1 <= c0 ? null : (c1 - c0) / t.cores / reps[i];
      best[i].ms = Math.min(best[i].ms, wall);
      best[i].deviceMs = dev === null || best[i].deviceMs === null ? null : Math.min(best[i].deviceMs, dev);
      best[i].n++;
    }
    if (performance.now() - t0 > budgetMs) break;
  }
  return best.map((b, i) => ({ ms: b.ms, deviceMs: b.deviceMs, measurements: b.n, runsEach: reps[i] }));
}

/** Which clock the headline figures use: the device clock where there is one, else wall time. */
export type Basis = 'device' | 'wall';

export interface BenchTiming extends TimingOptions {
  basis: Basis;
}

/** Milliseconds of a timed figure on a basis (wall when it has no device time). */
export const msOf = (t: Pick<Timed, 'ms' | 'deviceMs'>, basis: Basis): number => (basis === 'device' && t.deviceMs !== null ? t.deviceMs : t.ms);

/** The basis for figures that are compared: device only if every one of them has a device time. */
export const commonBasis = (times: Pick<Timed, 'deviceMs'>[], basis: Basis): Basis =>
  (basis === 'device' && times.every((t) => t.deviceMs !== null && t.deviceMs > 0) ? 'device' : 'wall');
