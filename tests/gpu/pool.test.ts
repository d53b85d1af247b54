import { CATEGORIES } from '../../src/core/memory-categories';
import { describe, expect, it, vi } from 'vitest';
import { createEngine } from '../../src/engine/context';
import { OutOfMemoryError } from '../../src/engine/errors';
import { BufferUsage } from '../../src/engine/flags';
import { alignedSize, BufferPool } from '../../src/engine/pool';
import { readBuffers, readFloat32 } from '../../src/engine/readback';
import { uploadBuffer } from '../../src/engine/upload';
import { testGpu } from './gpu';

const gpu = await testGpu();
const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC;

describe('alignedSize', () => {
  it('rounds up to 4 bytes, at least 4', () => {
    expect([0, 1, 3, 4, 5, 8, 1023].map(alignedSize)).toEqual([4, 4, 4, 4, 8, 8, 1024]);
    expect(() => alignedSize(-1)).toThrow(RangeError);
  });
});

describe.skipIf(!gpu)('buffer pool and ledger', () => {
  it('tracks current and peak per category and in total; destroy updates current', async () => {
    const pool = new BufferPool(gpu!);
    const w = await pool.alloc({ size: 1000, usage: STORAGE, category: 'weights', label: 'w' });
    const a1 = await pool.alloc({ size: 13, usage: STORAGE, category: 'activations', label: 'a1' });
    const a2 = await pool.alloc({ size: 400, usage: STORAGE, category: 'activations', label: 'a2' });
    expect(a1.size).toBe(16);
    let s = pool.ledgerSnapshot();
    expect(s.current).toMatchObject({ weights: 1000, activations: 416, lora: 0 });
    expect(s.total).toBe(1416);
    expect(s.count).toBe(3);
    pool.destroy(a2);
    pool.destroy(a2); // second destroy is a no-op
    const g = await pool.alloc({ size: 100, usage: STORAGE, category: 'grads', label: 'g' });
    s = pool.ledgerSnapshot();
    expect(s.current.activations).toBe(16);
    expect(s.peak.activations).toBe(416);
    expect(s.total).toBe(1116);
    expect(s.peakTotal).toBe(1416);
    expect(Object.keys(s.current).sort()).toEqual([...CATEGORIES].sort());
    // the ledger equals the sum of the sizes the device reports for the live buffers
    const live = pool.allocatedBuffers();
    expect(live.map((b) => b.label).sort()).toEqual(['a1', 'g', 'w']);
    expect(live.reduce((n, b) => n + b.size, 0)).toBe(s.total);
    for (const c of CATEGORIES) {
      expect(live.filter((b) => b.category === c).reduce((n, b) => n + b.buffer.size, 0)).toBe(s.current[c]);
    }
    pool.destroyAll('activations');
    expect(pool.ledgerSnapshot().current.activations).toBe(0);
    pool.resetPeaks();
    expect(pool.ledgerSnapshot().peakTotal).toBe(1100);
    pool.destroyAll();
    expect(pool.ledgerSnapshot().total).toBe(0);
    void w; void g;
  });

  it('an over-limit allocation throws OutOfMemoryError before createBuffer is called', async () => {
    const pool = new BufferPool(gpu!);
    const spy = vi.spyOn(gpu!.device, 'createBuffer');
    try {
      const huge = gpu!.limits.maxBufferSize + 4;
      const err = await pool.alloc({ size: huge, usage: STORAGE, category: 'weights', label: 'too big' }).catch((e) => e);
      expect(err).toBeInstanceOf(OutOfMemoryError);
      expect(err.name).toBe('OutOfMemoryError');
      expect(err).toMatchObject({ requestedBytes: huge, category: 'weights', label: 'too big', limitBytes: gpu!.limits.maxBufferSize });
      expect(err.message).toMatch(/maxBufferSize/);
      if (gpu!.limits.maxStorageBufferBindingSize < gpu!.limits.maxBufferSize) {
        const big = gpu!.limits.maxStorageBufferBindingSize + 4;
        await expect(pool.alloc({ size: big, usage: STORAGE, category: 'activations', label: 'x' })).rejects.toThrow(/maxStorageBufferBindingSize/);
      }
      expect(spy).not.toHaveBeenCalled();
      expect(pool.ledgerSnapshot().total).toBe(0);
    } finally {
      spy.mockRestore();
    }
  });

  it('the device was given the adapter limits (1 GiB buffers on SwiftShader, not the 256 MiB default)', () => {
    expect(gpu!.limits.maxBufferSize).toBeGreaterThan(256 * 1024 * 1024);
    expect(gpu!.limits.maxStorageBufferBindingSize).toBeGreaterThan(128 * 1024 * 1024);
  });

  it('upload and readback round-trip, several slices in one map', async () => {
    const engine = createEngine(gpu!);
    const data = Float32Array.from({ length: 67 }, (_, i) => i * 0.5 - 3);
    const a = await uploadBuffer(engine.pool, data, { category: 'lora', label: 'a' });
    const b = await uploadBuffer(engine.pool, Uint8Array.of(1, 2, 3, 4, 5), { category: 'lora', label: 'b' });
    expect(b.size).toBe(8);
    expect(engine.pool.ledgerSnapshot().current.lora).toBe(67 * 4 + 8);
    expect(await readFloat32(gpu!.device, a)).toEqual(data);
    const [s1, s2] = await readBuffers(gpu!.device, [{ buffer: a, offset: 8, size: 8 }, { buffer: b }]);
    expect([...new Float32Array(s1)]).toEqual([-2, -1.5]);
    expect([...new Uint8Array(s2)]).toEqual([1, 2, 3, 4, 5, 0, 0, 0]);
    engine.pool.destroyAll();
  });
});
