/**
 * Read GPU buffers back to the CPU: every slice in one staging buffer, one copy pass, one
 * `mapAsync`. For tests, validation losses and checkpoints, never per kernel (the step metrics
 * have their own reused staging buffer, src/train/step.ts).
 *
 * The staging buffer is transient (created and destroyed here) and deliberately not in the pool's
 * ledger: it is not part of the run's planned memory (the device's staging tally counts it while it lives).
 */
import { MapMode } from './flags';
import { createStagingBuffer } from './pool';

export interface BufferSlice {
  buffer: GPUBuffer;
  /** Byte offset, a multiple of 4 (default 0). */
  offset?: number;
  /** Bytes, a multiple of 4 (default: the rest of the buffer). */
  size?: number;
}

/** The bytes of each slice, in order, read with a single copy submission and a single map. */
export async function readBuffers(device: GPUDevice, slices: BufferSlice[]): Promise<ArrayBuffer[]> {
  const plan = slices.map((s) => {
    const offset = s.offset ?? 0;
    const size = s.size ?? s.buffer.size - offset;
    if (offset % 4 || size % 4) throw new RangeError(`readback of ${size} bytes at ${offset}: both must be multiples of 4`);
    if (offset + size > s.buffer.size) {
      throw new RangeError(`readback of ${size} bytes at ${offset} runs past '${s.buffer.label}' (${s.buffer.size} bytes)`);
    }
    return { buffer: s.buffer, offset, size };
  });
  const total = plan.reduce((n, p) => n + p.size, 0);
  if (total === 0) return plan.map(() => new ArrayBuffer(0));

  const { buffer: staging, release } = createStagingBuffer(device, total, 'readback');
  try {
    const enc = device.createCommandEncoder({ label: 'readback' });
    let at = 0;
    for (const p of plan) {
      if (p.size) enc.copyBufferToBuffer(p.buffer, p.offset, staging, at, p.size);
      at += p.size;
    }
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(MapMode.READ);
    const all = staging.getMappedRange();
    at = 0;
    const out = plan.map((p) => {
      const copy = all.slice(at, at + p.size); // copy out: the mapped range dies at unmap
      at += p.size;
      return copy;
    });
    staging.unmap();
    return out;
  } finally {
    release();
  }
}

/** `count` f32 values (default: the whole buffer) starting at element `first`. */
export async function readFloat32(device: GPUDevice, buffer: GPUBuffer, count?: number, first = 0): Promise<Float32Array> {
  const n = count ?? Math.floor(buffer.size / 4) - first;
  const [bytes] = await readBuffers(device, [{ buffer, offset: first * 4, size: n * 4 }]);
  return new Float32Array(bytes);
}

/** `count` u32 words (default: the whole buffer). */
export async function readUint32(device: GPUDevice, buffer: GPUBuffer, count?: number): Promise<Uint32Array> {
  const n = count ?? Math.floor(buffer.size / 4);
  const [bytes] = await readBuffers(device, [{ buffer, size: n * 4 }]);
  return new Uint32Array(bytes);
}
