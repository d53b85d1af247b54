/**
 * GPU time per prepared op from `timestamp-query`: each op is encoded in its own compute pass with
 * timestamps at the pass's beginning and end, all resolved into one buffer and read back once. The
 * kernel family of an op is the shader label of the pipelines it sets (the pipeline cache labels
 * each pipeline `shader/entry/constants/layout`), seen through a thin wrapper of the pass.
 *
 * For benchmarks and diagnostics, never the hot path: one pass per op costs more than one pass per
 * step, so the sum of the timings is larger than the step; use the shares. The query set and the
 * resolve buffer are transient and, like the readback staging buffer, not on the ledger.
 */
import type { Engine } from './context';
import { BufferUsage } from './flags';
import type { PreparedOp } from './kernels/common';
import { readBuffers } from './readback';

export interface OpTiming {
  label: string;
  /** Shader label of the op's first pipeline, e.g. 'matmul_weight'. */
  kernel: string;
  ms: number;
}

export interface KernelShare {
  kernel: string;
  ms: number;
  /** Fraction of the summed time of all ops. */
  share: number;
  /** Dispatching ops of this family. */
  count: number;
}

/** WebGPU's cap on a query set's size. */
const MAX_QUERIES = 4096;

/** Ops that encode several sub-ops (e.g. the attention backward) are timed sub-op by sub-op. */
function flatten(ops: readonly PreparedOp[]): PreparedOp[] {
  return ops.flatMap((op) => {
    const inner = (op as PreparedOp & { ops?: unknown }).ops;
    return Array.isArray(inner) && inner.length ? flatten(inner as PreparedOp[]) : [op];
  });
}

/** A pass that remembers the label of the first pipeline set on it. */
function recordingPass(pass: GPUComputePassEncoder, seen: { pipeline: string | null }): GPUComputePassEncoder {
  const wrapper = {
    setPipeline(p: GPUComputePipeline) {
      seen.pipeline ??= p.label;
      pass.setPipeline(p);
    },
    setBindGroup: (...a: Parameters<GPUComputePassEncoder['setBindGroup']>) => pass.setBindGroup(...a),
    dispatchWorkgroups: (...a: Parameters<GPUComputePassEncoder['dispatchWorkgroups']>) => pass.dispatchWorkgroups(...a),
    dispatchWorkgroupsIndirect: (...a: Parameters<GPUComputePassEncoder['dispatchWorkgroupsIndirect']>) => pass.dispatchWorkgroupsIndirect(...a),
    end: () => pass.end(),
  };
  return wrapper as unknown as GPUComputePassEncoder;
}

/**
 * Run `ops` once, in order, one pass each, and return each op's GPU time. Needs the
 * `timestamp-query` feature on the engine's device (`engine.gpu.features.timestamps`).
 */
export async function profileOps(engine: Engine, ops: readonly PreparedOp[]): Promise<OpTiming[]> {
  if (!engine.gpu.features.timestamps) {
    throw new Error('profileOps needs the timestamp-query feature, which this device was created without');
  }
  const { device } = engine.gpu;
  const all = flatten(ops);
  const out: OpTiming[] = [];
  for (let start = 0; start < all.length; start += MAX_QUERIES / 2) {
    const chunk = all.slice(start, start + MAX_QUERIES / 2);
    const count = 2 * chunk.length;
    const querySet = device.createQuerySet({ label: 'profiler', type: 'timestamp', count });
    const resolve = device.createBuffer({ label: 'profiler resolve', size: 8 * count, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
    try {
      const enc = device.createCommandEncoder({ label: 'profiler' });
      const kernels = chunk.map((op, i) => {
        const seen = { pipeline: null as string | null };
        const pass = enc.beginComputePass({
          label: `profile ${op.label}`,
          timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
        });
        op.encode(recordingPass(pass, seen));
        pass.end();
        return (seen.pipeline ?? 'none').split('/')[0];
      });
      enc.resolveQuerySet(querySet, 0, count, resolve, 0);
      device.queue.submit([enc.finish()]);
      const [bytes] = await readBuffers(device, [{ buffer: resolve }]);
      const ns = new BigUint64Array(bytes);
      chunk.forEach((op, i) => {
        // Timestamps may be quantized or, across a clock reset, out of order: never negative.
        const d = ns[2 * i + 1] > ns[2 * i] ? Number(ns[2 * i + 1] - ns[2 * i]) : 0;
        out.push({ label: op.label, kernel: kernels[i], ms: d / 1e6 });
      });
    } finally {
      querySet.destroy();
      resolve.destroy();
    }
  }
  return out;
}

/** Time and share per kernel family, largest first. */
export function sharesByKernel(timings: readonly OpTiming[]): KernelShare[] {
  const total = timings.reduce((s, t) => s + t.ms, 0);
  const by = new Map<string, { ms: number; count: number }>();
  for (const t of timings) {
    const e = by.get(t.kernel) ?? { ms: 0, count: 0 };
    e.ms += t.ms;
    e.count += 1;
    by.set(t.kernel, e);
  }
  return [...by].map(([kernel, e]) => ({ kernel, ms: e.ms, share: total > 0 ? e.ms / total : 0, count: e.count }))
    .sort((a, b) => b.ms - a.ms);
}
