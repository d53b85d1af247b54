/**
 * A full disk, simulated at the storage layer (memoryKv with a small quota that throws
 * QuotaExceededError the way IndexedDB does): the write that does not fit becomes a
 * StorageFullError naming what, how big, the space left and what to delete, and everything
 * stored before is intact, byte for byte. Also the storage report and deletes by item and category.
 */
import { describe, expect, it } from 'vitest';
import { createAdapterStore, type NewAdapter } from '../../src/io/stores/adapters';
import { memoryKv, withStorageErrors } from '../../src/io/stores/kv';
import { createRunStore, type NewRun } from '../../src/io/stores/runs';
import { StorageFullError } from '../../src/io/stores/storage-errors';
import { createStorageUsage, kvItems } from '../../src/io/stores/usage';
import { errorFromPlain, errorToPlain } from '../../src/worker/errors';

const meta = (name: string): NewAdapter => ({
  name, baseModel: 'tiny', trainableParams: 10, origin: 'trained',
  lora: { r: 4, alpha: 8, dropout: 0, targetModules: ['q_proj'], useRslora: false, rankPattern: {}, alphaPattern: {} } as never,
});
const weights = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function fullDisk(quotaBytes: number) {
  const raw = memoryKv({ quotaBytes });
  return { raw, kv: withStorageErrors(raw, 'the adapter') };
}

describe('a write past the quota', () => {
  it('is a StorageFullError with what, size, space left and what to delete; earlier adapters are intact', async () => {
    const { kv } = fullDisk(300_000);
    const adapters = createAdapterStore(kv);
    const kept = [];
    for (let i = 0; i < 3; i++) kept.push({ meta: await adapters.save(meta(`a${i}`), { weights: weights(80_000, i), configJson: `{"r": ${i}}` }), seed: i });
    const err = await adapters.save(meta('too big'), { weights: weights(100_000, 9), configJson: '{}' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^cannot save the adapter "too big" \(9[78]\.\d KiB\): this site's browser storage is full \(\d+\.\d KiB left\)/);
    expect(msg).toMatch(/Nothing stored before was changed\. Free space in the Storage tab \(delete cached models, old checkpoints, runs, adapters or finetuned models/);
    expect((err as StorageFullError).freeBytes).toBeLessThan(100_000);
    // Nothing half-written: neither the meta nor the bytes of the refused adapter.
    expect((await adapters.list()).map((a) => a.name).sort()).toEqual(['a0', 'a1', 'a2']);
    expect((await kv.keys()).length).toBe(6);
    for (const { meta: m, seed } of kept) {
      const f = await adapters.files(m.id);
      expect(f.weights).toEqual(weights(80_000, seed));
      expect(f.configJson).toBe(`{"r": ${seed}}`);
    }
    // Deleting one makes room, and the same save then succeeds.
    await adapters.delete(kept[0].meta.id);
    await adapters.delete(kept[1].meta.id);
    expect((await adapters.save(meta('too big'), { weights: weights(100_000, 9), configJson: '{}' })).name).toBe('too big');
  });

  it('keeps its class and fields across the worker boundary', () => {
    const e = errorFromPlain(errorToPlain(new StorageFullError('the run "x"', 2048, 1024)));
    expect(e).toBeInstanceOf(StorageFullError);
    expect((e as StorageFullError).freeBytes).toBe(1024);
    expect(e.message).toMatch(/cannot save the run "x" \(2\.0 KiB\).*\(1\.0 KiB left\)/);
  });

  it('a run whose curves no longer fit keeps the points saved before', async () => {
    const runs = createRunStore(withStorageErrors(memoryKv({ quotaBytes: 40_000 }), 'the run'));
    const r = await runs.create({ name: 'long run', config: {} as never, model: { name: 'm', source: 'demo', params: 1 }, dataset: { name: 'd', examples: 1, validation: 0, tokensPerEpoch: 1 }, totalSteps: 100 } satisfies NewRun);
    const point = (step: number) => ({ step, epoch: 0, loss: 1 / step, lr: 1e-3, gradNorm: 1, clipCoef: 1, tokensPerSecond: 1, elapsedMs: step, memory: {} as never, memoryTotal: 0, memoryPeak: 0 });
    await runs.appendPoints(r.id, Array.from({ length: 20 }, (_, i) => point(i + 1)));
    const err = await runs.appendPoints(r.id, Array.from({ length: 400 }, (_, i) => point(i + 21))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as Error).message).toMatch(/^cannot save the run "long run"/);
    expect((await runs.points(r.id)).map((p) => p.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('other failures pass through unchanged', async () => {
    const kv = withStorageErrors(memoryKv(), 'the adapter');
    await expect(kv.set('x', () => 1)).rejects.toThrow(/could not be cloned/);
  });
});

describe('storage usage', () => {
  it('reports bytes by category and item, and deletes an item or a whole category', async () => {
    const aKv = memoryKv();
    const rKv = memoryKv();
    const adapters = createAdapterStore(aKv);
    const a = await adapters.save(meta('first'), { weights: weights(5000, 1), configJson: '{}' });
    await adapters.save(meta('second'), { weights: weights(20_000, 2), configJson: '{}' });
    await rKv.setMany([['run:run-1', { name: 'my run' }], ['points:run-1:0', [{ step: 1 }]], ['points:run-1:1', [{ step: 2 }]], ['run:run-2', { name: 'other' }]]);
    const models = new Map([['models--org--m', 1234]]);
    const cKv = memoryKv();
    await cKv.setMany([['latest:run-2', { step: 5 }], ['data:run-2:c1', { lora: new Float32Array(100) }]]);
    const usage = createStorageUsage({
      adapters: kvItems(aKv), runs: kvItems(rKv), checkpoints: kvItems(cKv),
      models: { list: async () => [...models].map(([id, bytes]) => ({ id, name: 'org/m', bytes })), remove: async (id) => void models.delete(id) },
    });
    const report = await usage.report();
    expect(report.categories.map((c) => c.category)).toEqual(['models', 'adapters', 'finetuned', 'checkpoints', 'runs']);
    const byCat = Object.fromEntries(report.categories.map((c) => [c.category, c]));
    expect(byCat.adapters.items.map((i) => i.name)).toEqual(['second', 'first']);
    expect(byCat.adapters.items[0].bytes).toBeGreaterThan(20_000);
    expect(byCat.adapters.items[1].bytes).toBeGreaterThan(5000);
    expect(byCat.adapters.items[1].bytes).toBeLessThan(20_000);
    expect(byCat.adapters.bytes).toBe(byCat.adapters.items[0].bytes + byCat.adapters.items[1].bytes);
    expect(byCat.runs.items.map((i) => [i.id, i.name])).toEqual([['run-1', 'my run'], ['run-2', 'other']]);
    expect(byCat.models.bytes).toBe(1234);
    expect(byCat.checkpoints.items.map((i) => [i.id, i.name])).toEqual([['run-2', 'other (checkpoint)']]);
    expect(byCat.checkpoints.bytes).toBeGreaterThan(400);

    await usage.deleteItem('adapters', a.id);
    expect((await adapters.list()).map((x) => x.name)).toEqual(['second']);
    expect((await aKv.keys()).some((k) => k.includes(a.id))).toBe(false);
    await usage.deleteItem('runs', 'run-1');
    expect(await rKv.keys()).toEqual(['run:run-2']);
    await usage.deleteCategory('runs');
    await usage.deleteCategory('models');
    const after = await usage.report();
    expect(after.categories.find((c) => c.category === 'runs')!.items).toEqual([]);
    expect(after.categories.find((c) => c.category === 'models')!.bytes).toBe(0);
    await expect(usage.deleteCategory('bogus' as never)).rejects.toThrow(/unknown storage category "bogus"/);
  });
});
