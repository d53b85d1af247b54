/**
 * What a long session relies on: every pool on a device adds up in `deviceMemory` (and staging
 * buffers apart), releasing an engine brings it back to zero, and one pipeline cache per device is
 * shared by the engines made on it and bounded (the least recently used pipeline goes first).
 */
import { describe, expect, it } from 'vitest';
import { createEngine, releaseEngine } from '../../src/engine/context';
import { BufferUsage } from '../../src/engine/flags';
import { PipelineCache, layoutSpec } from '../../src/engine/pipelines';
import { createStagingBuffer, deviceMemory } from '../../src/engine/pool';
import { readFloat32 } from '../../src/engine/readback';
import { testGpu } from './gpu';

const gpu = await testGpu();

const SHADER = `
@group(0) @binding(0) var<storage, read_write> o: array<f32>;
override SCALE: f32 = 1.0;
@compute @workgroup_size(1) fn main() { o[0] = SCALE; }
`;

describe.skipIf(!gpu)('releasing an engine', () => {
  it('the device tally sums every pool and staging buffer; released, it is back where it was', async () => {
    const start = deviceMemory(gpu!.device);
    const a = createEngine(gpu!);
    const b = createEngine(gpu!);
    const x = await a.pool.alloc({ size: 1000, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC, category: 'activations', label: 'x (250)' });
    await b.pool.alloc({ size: 64, usage: BufferUsage.STORAGE, category: 'weights', label: 'w (16)' });
    expect(deviceMemory(gpu!.device)).toEqual({ ...start, bytes: start.bytes + 1000 + 64, buffers: start.buffers + 2 });
    const staging = createStagingBuffer(gpu!.device, 256, 'test staging');
    expect(deviceMemory(gpu!.device).stagingBytes).toBe(start.stagingBytes + 256);
    staging.release();
    staging.release(); // a second release changes nothing
    expect(await readFloat32(gpu!.device, x, 4)).toHaveLength(4); // a readback's staging buffer is gone when it returns
    expect(deviceMemory(gpu!.device).stagingBytes).toBe(start.stagingBytes);
    await releaseEngine(a);
    expect(deviceMemory(gpu!.device).bytes).toBe(start.bytes + 64);
    await releaseEngine(b);
    expect(deviceMemory(gpu!.device)).toEqual(start);
  });

  it('engines on one device share its pipeline cache', () => {
    expect(createEngine(gpu!).pipelines).toBe(createEngine(gpu!).pipelines);
  });

  it('a cache keeps at most its bound of pipelines, the most recently used', async () => {
    const cache = new PipelineCache(gpu!, 2);
    const spec = (scale: number) => ({ label: 'bounded', code: SHADER, entryPoint: 'main', constants: { SCALE: scale }, layout: layoutSpec(['rw']) });
    const one = await cache.compute(spec(1));
    await cache.compute(spec(2));
    expect(await cache.compute(spec(1))).toBe(one); // used again: now the most recent
    await cache.compute(spec(3)); // drops SCALE=2, the least recently used
    expect(cache.size).toBe(2);
    expect(await cache.compute(spec(1))).toBe(one);
    const again = await cache.compute(spec(2)); // built anew
    expect(cache.size).toBe(2);
    expect(again.pipeline).not.toBe(one.pipeline);
  });
});
