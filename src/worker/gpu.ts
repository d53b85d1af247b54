/**
 * The worker's GPU: acquired on first use from `navigator.gpu` (never the DOM), replaced after
 * the device is lost. Subscribers hear every fault of the current device.
 */
import { acquireGpu, type Gpu, type GpuLimitsChoice } from '../engine/device';
import { DeviceLostError, type EngineError } from '../engine/errors';
import type { GpuSummary } from './api';

export class GpuHolder {
  private current: Promise<Gpu> | null = null;
  private lost = false;

  /** `limits`: the adapter's maxima, or WebGPU's defaults (to behave as a small device would). */
  constructor(private readonly gpuApi: () => GPU | undefined | Promise<GPU | undefined>, private readonly limits: GpuLimitsChoice = 'adapter') {}

  /** The live device, acquiring a new one when there is none or the last was lost. */
  get(): Promise<Gpu> {
    if (!this.current || this.lost) {
      this.lost = false;
      const p = Promise.resolve(this.gpuApi()).then((api) => acquireGpu(api, { limits: this.limits }));
      this.current = p;
      p.then((gpu) => gpu.onFault((e) => { if (e instanceof DeviceLostError && this.current === p) this.lost = true; }), () => {
        if (this.current === p) this.current = null; // let the next call try again
      });
    }
    return this.current;
  }

  async summary(): Promise<GpuSummary> {
    const g = await this.get();
    return {
      description: g.adapterInfo.description || g.adapterInfo.vendor, architecture: g.adapterInfo.architecture, f16: g.features.f16,
      maxBufferSize: g.limits.maxBufferSize, maxStorageBufferBindingSize: g.limits.maxStorageBufferBindingSize,
    };
  }

  /** Subscribe to faults of the device in use now. */
  async onFault(cb: (e: EngineError) => void): Promise<() => void> {
    return (await this.get()).onFault(cb);
  }

  /** Destroy the device (as a driver reset would); the next `get` acquires a new one. */
  async destroy(): Promise<void> {
    if (!this.current) return;
    const gpu = await this.current.catch(() => null);
    gpu?.device.destroy();
  }
}
