/**
 * The buffer allocator and its memory ledger.
 *
 * Every GPU buffer of a run is created here with a category and a label, so the ledger (current and
 * peak bytes per category and in total) is the memory curve the user sees. A buffer is not reused
 * after `destroy`: the model plans its buffers once per run, so a free list would only blur the
 * ledger. The one sizing rule is `alignedSize`; an analytic memory plan that applies it to each
 * planned buffer predicts the ledger byte for byte.
 */
import type { Gpu } from './device';
import { BufferUsage } from './flags';
import { GpuValidationError, OutOfMemoryError } from './errors';
import { CATEGORIES, type Category } from '../core/memory-categories';


/**
 * Bytes actually allocated for a request of `bytes`: rounded up to a multiple of 4, and at least 4.
 * (Mapping, `writeBuffer` and buffer copies work in 4-byte units; a zero-sized buffer cannot be bound.)
 */
export function alignedSize(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`invalid buffer size ${bytes}`);
  return Math.max(4, Math.ceil(bytes / 4) * 4);
}

export interface AllocRequest {
  /** Requested bytes; the buffer gets `alignedSize(size)`. */
  size: number;
  usage: GPUBufferUsageFlags;
  category: Category;
  label: string;
  mappedAtCreation?: boolean;
}

export interface LedgerSnapshot {
  current: Record<Category, number>;
  /** Peak of each category on its own. */
  peak: Record<Category, number>;
  total: number;
  /** Peak of the total (not the sum of the per-category peaks). */
  peakTotal: number;
  /** Number of live buffers. */
  count: number;
}

export interface AllocatedBuffer {
  buffer: GPUBuffer;
  label: string;
  category: Category;
  /** `buffer.size` as the device reports it. */
  size: number;
}

const zeros = (): Record<Category, number> =>
  Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;

/**
 * What every pool on one device holds together (each run, evaluation and the playground has a pool
 * of its own), plus the mappable staging buffers made outside the pools (readbacks): after a run
 * ends, fails or is stopped this is back where it was, so a long session shows no creeping leak.
 */
export interface DeviceMemory {
  /** Bytes of the live pool buffers of every pool on the device. */
  bytes: number;
  buffers: number;
  /** Bytes of live staging buffers (readback copies; not part of any plan). */
  stagingBytes: number;
  stagingBuffers: number;
}

const deviceTallies = new WeakMap<GPUDevice, DeviceMemory>();

function tallyOf(device: GPUDevice): DeviceMemory {
  let t = deviceTallies.get(device);
  if (!t) deviceTallies.set(device, (t = { bytes: 0, buffers: 0, stagingBytes: 0, stagingBuffers: 0 }));
  return t;
}

/** The device's live pool and staging memory now (a copy). */
export function deviceMemory(device: GPUDevice): DeviceMemory {
  return { ...tallyOf(device) };
}

/**
 * A mappable staging buffer outside the pools, counted in `deviceMemory` until `release` destroys
 * it (a second release is a no-op).
 */
export function createStagingBuffer(device: GPUDevice, size: number, label: string): { buffer: GPUBuffer; release(): void } {
  const buffer = device.createBuffer({ label, size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const t = tallyOf(device);
  t.stagingBytes += buffer.size;
  t.stagingBuffers++;
  let live = true;
  return {
    buffer,
    release() {
      if (!live) return;
      live = false;
      t.stagingBytes -= buffer.size;
      t.stagingBuffers--;
      buffer.destroy();
    },
  };
}

export class BufferPool {
  private readonly live = new Map<GPUBuffer, { label: string; category: Category; bytes: number }>();
  private readonly current = zeros();
  private readonly peak = zeros();
  private total = 0;
  private peakTotal = 0;
  private readonly device: DeviceMemory;

  constructor(readonly gpu: Gpu) {
    this.device = tallyOf(gpu.device);
  }

  /**
   * Create a buffer of `alignedSize(req.size)` bytes. Sizes above the device limits throw
   * OutOfMemoryError before anything is created; a refusal by the device (its out-of-memory error
   * scope) throws OutOfMemoryError too.
   */
  async alloc(req: AllocRequest): Promise<GPUBuffer> {
    const bytes = alignedSize(req.size);
    const { limits, device } = this.gpu;
    if (bytes > limits.maxBufferSize) {
      throw new OutOfMemoryError(bytes, req.category, req.label, limits.maxBufferSize,
        `exceeds maxBufferSize (${limits.maxBufferSize} bytes)`);
    }
    if (req.usage & BufferUsage.STORAGE && bytes > limits.maxStorageBufferBindingSize) {
      throw new OutOfMemoryError(bytes, req.category, req.label, limits.maxStorageBufferBindingSize,
        `a storage buffer exceeds maxStorageBufferBindingSize (${limits.maxStorageBufferBindingSize} bytes)`);
    }
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    const buffer = device.createBuffer({
      size: bytes, usage: req.usage, label: `${req.category}:${req.label}`, mappedAtCreation: req.mappedAtCreation,
    });
    const oom = device.popErrorScope();
    const invalid = device.popErrorScope();
    const [oomErr, invalidErr] = await Promise.all([oom, invalid]);
    if (oomErr || invalidErr) {
      buffer.destroy();
      if (oomErr) throw new OutOfMemoryError(bytes, req.category, req.label, -1, `the device refused: ${oomErr.message}`);
      throw new GpuValidationError(`createBuffer '${req.label}' (${bytes} bytes): ${invalidErr!.message}`);
    }
    this.live.set(buffer, { label: req.label, category: req.category, bytes });
    this.current[req.category] += bytes;
    this.total += bytes;
    this.device.bytes += bytes;
    this.device.buffers++;
    this.peak[req.category] = Math.max(this.peak[req.category], this.current[req.category]);
    this.peakTotal = Math.max(this.peakTotal, this.total);
    return buffer;
  }

  /** Destroy a buffer made by this pool and take it off the ledger (a second call is a no-op). */
  destroy(buffer: GPUBuffer): void {
    const entry = this.live.get(buffer);
    if (!entry) return;
    this.live.delete(buffer);
    this.current[entry.category] -= entry.bytes;
    this.total -= entry.bytes;
    this.device.bytes -= entry.bytes;
    this.device.buffers--;
    buffer.destroy();
  }

  /** Destroy every live buffer, or those of one category. */
  destroyAll(category?: Category): void {
    for (const [buffer, entry] of [...this.live]) {
      if (!category || entry.category === category) this.destroy(buffer);
    }
  }

  ledgerSnapshot(): LedgerSnapshot {
    return {
      current: { ...this.current }, peak: { ...this.peak },
      total: this.total, peakTotal: this.peakTotal, count: this.live.size,
    };
  }

  /** Forget the peaks (e.g. at the start of a run); current values stay. */
  resetPeaks(): void {
    for (const c of CATEGORIES) this.peak[c] = this.current[c];
    this.peakTotal = this.total;
  }

  /** Live buffers with the size the device reports, to check the ledger against reality. */
  allocatedBuffers(): AllocatedBuffer[] {
    return [...this.live].map(([buffer, e]) => ({ buffer, label: e.label, category: e.category, size: buffer.size }));
  }
}
