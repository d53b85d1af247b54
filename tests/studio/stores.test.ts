import { describe, expect, it } from 'vitest';
import { memoryKv, type Kv } from '../../src/io/stores/kv';
import { createRunStore, POINTS_PER_CHUNK, type NewRun, type StepPoint } from '../../src/io/stores/runs';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { parseRunConfig } from '../../src/config/run-config';

const run: NewRun = {
  name: 'r8', config: parseRunConfig({}), model: { name: 'm', source: 'demo', params: 10 },
  dataset: { name: 'd', examples: 4, validation: 1, tokensPerEpoch: 100 }, totalSteps: 2000,
};
const point = (step: number): StepPoint => ({
  step, epoch: step / 10, loss: 1 / step, lr: 1e-3, gradNorm: 0.5, clipCoef: 1, tokensPerSecond: 100, elapsedMs: step * 10,
  memory: { weights: 1, lora: 2, grads: 3, optimizer: 4, activations: 5, workspace: 6 }, memoryTotal: 21, memoryPeak: 21,
});

describe('run store', () => {
  it('appends points across chunk boundaries and reads them back in order', async () => {
    const kv = memoryKv();
    const store = createRunStore(kv);
    const r = await store.create(run);
    const all = Array.from({ length: 3 * POINTS_PER_CHUNK + 17 }, (_, i) => point(i + 1));
    // Uneven batches, as the trainer's saves come.
    for (let i = 0; i < all.length; ) {
      const n = 1 + ((i * 7) % 300);
      await store.appendPoints(r.id, all.slice(i, i + n));
      i += n;
    }
    expect((await store.get(r.id))!.pointCount).toBe(all.length);
    expect((await store.points(r.id)).map((p) => p.step)).toEqual(all.map((p) => p.step));
    // Chunks are bounded, so a save rewrites at most one partial chunk.
    const chunks = (await kv.keys()).filter((k) => k.startsWith(`points:${r.id}:`));
    expect(chunks).toHaveLength(4);
    for (const k of chunks) expect(((await kv.get<StepPoint[]>(k)) ?? []).length).toBeLessThanOrEqual(POINTS_PER_CHUNK);
  });

  it('concurrent saves of one run land in order', async () => {
    const store = createRunStore(memoryKv());
    const r = await store.create(run);
    await Promise.all([store.appendPoints(r.id, [point(1), point(2)]), store.appendPoints(r.id, [point(3)]), store.update(r.id, { status: 'paused' }), store.appendPoints(r.id, [point(4)])]);
    expect((await store.points(r.id)).map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect((await store.get(r.id))!.status).toBe('paused');
  });

  it('lists newest first, deletes a run with its curves, marks live runs interrupted', async () => {
    const kv = memoryKv();
    const store = createRunStore(kv);
    const a = await store.create(run);
    await new Promise((r) => setTimeout(r, 3));
    const b = await store.create({ ...run, name: 'second' });
    await store.appendPoints(a.id, [point(1)]);
    await store.update(b.id, { status: 'completed' });
    expect((await store.list()).map((r) => r.id)).toEqual([b.id, a.id]);
    const stale = await store.markInterrupted();
    expect(stale.map((r) => r.id)).toEqual([a.id]);
    expect((await store.get(a.id))!.status).toBe('interrupted');
    expect((await store.get(b.id))!.status).toBe('completed');
    await store.delete(a.id);
    expect(await store.get(a.id)).toBeUndefined();
    expect((await kv.keys()).some((k) => k.includes(a.id))).toBe(false);
  });
});

describe('adapter store', () => {
  it('keeps meta and files apart, lists without the bytes, deletes both', async () => {
    const kv = memoryKv();
    const store = createAdapterStore(kv);
    const weights = new Uint8Array([1, 2, 3, 4, 5]);
    const lora = { r: 4, alpha: 8, dropout: 0, useRslora: false, targetModules: ['q_proj' as const], rankPattern: {}, alphaPattern: {} };
    const a = await store.save({ name: 'a', baseModel: 'm', lora, trainableParams: 10, origin: 'trained' }, { weights, configJson: '{}' });
    expect(a.sizeBytes).toBe(5);
    const list = await store.list();
    expect(list).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain('configJson');
    expect([...(await store.files(a.id)).weights]).toEqual([1, 2, 3, 4, 5]);
    expect((await store.rename(a.id, 'b')).name).toBe('b');
    await store.delete(a.id);
    expect(await store.list()).toEqual([]);
    expect(await kv.keys()).toEqual([]);
    await expect(store.files(a.id)).rejects.toThrow(/not in the library/);
  });

  it('an adapter is whole or absent: a failed write leaves nothing behind', async () => {
    const base = memoryKv();
    const failing: Kv = { ...base, setMany: async () => { throw new Error('QuotaExceededError'); } };
    const store = createAdapterStore(failing);
    const lora = { r: 4, alpha: 8, dropout: 0, useRslora: false, targetModules: ['q_proj' as const], rankPattern: {}, alphaPattern: {} };
    await expect(store.save({ name: 'a', baseModel: 'm', lora, trainableParams: 1, origin: 'trained' }, { weights: new Uint8Array(4), configJson: '{}' })).rejects.toThrow(/Quota/);
    expect(await base.keys()).toEqual([]);
  });
});
