/**
 * The memory a run will take, by category, before anything is allocated: the training graph is
 * built against a recording device (src/engine/dry-run.ts), so the plan is produced by the very
 * code that allocates, and equals the ledger of a real build byte for byte.
 */
import { CATEGORIES, type Category } from '../../core/memory-categories';
import { createEngine } from '../../engine/context';
import { dryRunGpu } from '../../engine/dry-run';
import type { GpuFeatures, GpuLimits } from '../../engine/device';
import type { RunConfig } from '../../config/run-config';
import type { ModelConfig } from '../../config/model-config';
import { maxBindingBytes } from '../graph/dims';
import { buildTrainGraph } from '../graph/train-graph';

export interface MemoryPlan {
  byCategory: Record<Category, number>;
  total: number;
  /** Every buffer the run creates, largest first. */
  buffers: { label: string; category: Category; bytes: number }[];
  /** The largest single buffer, to check against maxBufferSize before training. */
  largest: { label: string; bytes: number };
}

export async function planMemory(
  model: ModelConfig, run: RunConfig, limits: Partial<GpuLimits> = {}, features: Partial<GpuFeatures> = {},
): Promise<MemoryPlan> {
  // The plan itself must not trip the device limits: plan with unbounded limits, then compare.
  const engine = createEngine(dryRunGpu({ ...limits, maxBufferSize: Number.MAX_SAFE_INTEGER, maxStorageBufferBindingSize: Number.MAX_SAFE_INTEGER }, features));
  // Pieces are sized for the real device (its limits as given), while the recording device takes any size.
  await buildTrainGraph(engine, model, run, { maxBindingBytes: maxBindingBytes({ maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize ?? Infinity, maxBufferSize: limits.maxBufferSize ?? Infinity }) });
  const snap = engine.pool.ledgerSnapshot();
  const buffers = engine.pool.allocatedBuffers()
    .map((b) => ({ label: b.label, category: b.category, bytes: b.size }))
    .sort((a, b) => b.bytes - a.bytes);
  const byCategory = Object.fromEntries(CATEGORIES.map((c) => [c, snap.current[c]])) as Record<Category, number>;
  return { byCategory, total: snap.total, buffers, largest: { label: buffers[0]?.label ?? '', bytes: buffers[0]?.bytes ?? 0 } };
}
