/**
 * The engine's per-device state that every kernel wrapper needs: the device, the buffer pool (and
 * its ledger) and the pipeline cache. One per run; kernels receive it explicitly.
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

export function createEngine(gpu: Gpu): Engine {
  const pool = new BufferPool(gpu);
  let placeholder: Promise<GPUBuffer> | null = null;
  return {
    gpu,
    pool,
    pipelines: new PipelineCache(gpu),
    placeholder() {
      placeholder ??= pool.alloc({ size: 16, usage: BufferUsage.STORAGE, category: 'workspace', label: 'placeholder' });
      return placeholder;
    },
  };
}
