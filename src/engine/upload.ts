/**
 * Create a GPU buffer holding typed data, through the pool (so it is on the ledger). The data is
 * written into the buffer's mapped-at-creation range: no staging copy, no queue write.
 */
import type { Category } from '../core/memory-categories';
import { BufferUsage } from './flags';
import type { BufferPool } from './pool';

export interface UploadOptions {
  category: Category;
  label: string;
  /** Usage flags; default STORAGE | COPY_SRC | COPY_DST. */
  usage?: GPUBufferUsageFlags;
}

/** A buffer of `alignedSize(data.byteLength)` bytes starting with `data` (any tail bytes are 0). */
export async function uploadBuffer(pool: BufferPool, data: ArrayBufferView, opts: UploadOptions): Promise<GPUBuffer> {
  const usage = opts.usage ?? (BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
  const buffer = await pool.alloc({
    size: data.byteLength, usage, category: opts.category, label: opts.label, mappedAtCreation: true,
  });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}

/** Write `data` into an existing buffer at `offset` bytes (through the queue; data size a multiple of 4). */
export function writeBuffer(device: GPUDevice, buffer: GPUBuffer, data: ArrayBufferView, offset = 0): void {
  device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
}
