/**
 * The engine's per-device state that every kernel wrapper needs: the device, the buffer pool (and
 * its ledger) and the pipeline cache. One per run (the pipeline cache is the device's, shared);
 * kernels receive it explicitly.
 */
import type { Gpu } from './device';
import { BufferUsage } from './flags';
import { PipelineCache } from './pipelines';
import { BufferPool } from './pool';

export interface Engine {
  gpu: Gpu;
  pool: BufferPool;
  pipelines: PipelineCache;
  /**
   * A tiny read-only storage buffer bound where a shader declares a binding that this use of it
   * does not need (e.g. `bias` of a linear without bias): layouts are shared, so every binding
   * must be filled. Allocated once, on the ledger as workspace.
   */
  placeholder(): Promise<GPUBuffer>;
}

/** One pipeline cache per device: runs one after another compile each pipeline once, not once per run. */
const devicePipelines = new WeakMap<GPUDevice, PipelineCache>();

function pipelinesOf(gpu: Gpu): PipelineCache {
  let cache = devicePipelines.get(gpu.device);
  if (!cache || cache.gpu !== gpu) devicePipelines.set(gpu.device, (cache = new PipelineCache(gpu)));
  return cache;
}

/** A pool of its own (its ledger is this run's alone) and the device's shared, bounded pipeline cache. */
export function createEngine(gpu: Gpu): Engine {
  const pool = new BufferPool(gpu);
  let placeholder: Promise<GPUBuffer> | null = null;
  return {
    gpu,
    pool,
    pipelines: pipelinesOf(gpu),
    placeholder() {
      placeholder ??= pool.alloc({ size: 16, usage: BufferUsage.STORAGE, category: 'workspace', label: 'placeholder' });
      return placeholder;
    },
  };
}

/**
 * Destroy every buffer of the engine's pool, then submit an empty command buffer and wait for the
 * queue: the device frees a destroyed buffer's memory only once the work submitted after it is done
 * (Dawn's deferred deletion). Without this, the next run allocates on top of the last one's memory
 * still held, and the process keeps the higher mark. A lost device has freed everything already.
 */
export async function releaseEngine(engine: Engine): Promise<void> {
  engine.pool.destroyAll();
  const { device } = engine.gpu;
  try {
    // Twice: the device frees what the first submission waited for while it processes the second
    // (its deferred deletions run on the device's tick, which a finished queue may not get again).
    for (let i = 0; i < 2; i++) {
      device.queue.submit([device.createCommandEncoder({ label: 'release' }).finish()]);
      await device.queue.onSubmittedWorkDone();
    }
  } catch {
    // a lost or destroyed device: nothing left to free
  }
}
