/**
 * The checkpoint store: one checkpoint per run, written whole or not at all; a save that fails
 * midway leaves the previous checkpoint current and readable; the older one is deleted only
 * after the new one is stored.
 */
import { describe, expect, it } from 'vitest';
import { createCheckpointStore, type NewCheckpoint } from '../../src/io/stores/checkpoints';
import { memoryKv, type Kv } from '../../src/io/stores/kv';

function checkpoint(runId: string, step: number, P = 6): NewCheckpoint {
  const fill = (v: number) => Float32Array.from({ length: P }, (_, i) => v + i / 10);
  return {
    runId, step, totalSteps: 20, schedule: { kind: 'cosine', nextStep: step, nextLr: 1e-3 }, rng: { seed: 1, stateless: true },
    data: { epoch: 0, microBatch: step, microBatchesPerEpoch: 40 }, optimizer: { kind: 'adamw', moments: [fill(step + 100), fill(step + 200)] },
    params: fill(step), points: { count: step, elapsedMs: 1000 * step },
    fingerprints: { model: { name: 'm', hash: 'h1' }, dataset: { name: 'd.jsonl', hash: 'h2', train: 10, validation: 2 }, config: { hash: 'h3' } },
  };
}

/** A Kv whose writes can be made to fail: `setMany` throws (as a quota abort does), or dies after writing the first entry (no transaction). */
function faultyKv(): Kv & { fail: 'none' | 'throw' | 'torn' } {
  const inner = memoryKv();
  const kv = {
    ...inner,
    fail: 'none' as 'none' | 'throw' | 'torn',
    async setMany(items: [string, unknown][]) {
      if (kv.fail === 'throw') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      if (kv.fail === 'torn') {
        await inner.set(items[0][0], items[0][1]);
        throw new Error('the tab died mid-write');
      }
      return inner.setMany(items);
    },
  };
  return kv;
}

describe('checkpoint store', () => {
  it('keeps one checkpoint per run: the newest, with every field as saved', async () => {
    const kv = memoryKv();
    const store = createCheckpointStore(kv);
    await store.save(checkpoint('a', 4));
    const info = await store.save(checkpoint('a', 8));
    await store.save(checkpoint('b', 2));
    const a = (await store.load('a'))!;
    expect(a.step).toBe(8);
    expect(a.id).toBe(info.id);
    expect([...a.params]).toEqual([...checkpoint('a', 8).params]);
    expect(a.optimizer.moments.map((m) => m[0])).toEqual([108, 208]);
    expect(info.bytes).toBe(3 * 6 * 4);
    expect((await kv.keys()).filter((k) => k.startsWith('data:a:'))).toHaveLength(1);
    expect((await store.list()).map((c) => [c.runId, c.step]).sort()).toEqual([['a', 8], ['b', 2]]);
    await store.delete('a');
    expect(await store.load('a')).toBeUndefined();
    expect((await kv.keys()).some((k) => k.includes(':a'))).toBe(false);
    expect((await store.load('b'))!.step).toBe(2);
  });

  it('a save that throws leaves the previous checkpoint current and readable', async () => {
    const kv = faultyKv();
    const store = createCheckpointStore(kv);
    await store.save(checkpoint('a', 4));
    kv.fail = 'throw';
    await expect(store.save(checkpoint('a', 8))).rejects.toThrow(/quota/);
    const kept = (await store.load('a'))!;
    expect(kept.step).toBe(4);
    expect([...kept.params]).toEqual([...checkpoint('a', 4).params]);
    expect(kept.optimizer.moments).toHaveLength(2);
  });

  it('a torn write (data stored, pointer not switched) still reads the previous checkpoint, and the next save cleans up', async () => {
    const kv = faultyKv();
    const store = createCheckpointStore(kv);
    await store.save(checkpoint('a', 4));
    kv.fail = 'torn';
    await expect(store.save(checkpoint('a', 8))).rejects.toThrow(/mid-write/);
    expect((await store.load('a'))!.step).toBe(4);
    kv.fail = 'none';
    await store.save(checkpoint('a', 12));
    expect((await store.load('a'))!.step).toBe(12);
    expect((await kv.keys()).filter((k) => k.startsWith('data:a:'))).toHaveLength(1);
  });

  it('the older checkpoint is deleted only after the new one is current', async () => {
    const inner = memoryKv();
    const seen: string[] = [];
    const kv: Kv = {
      ...inner,
      setMany: async (items) => { seen.push(`set ${items.map(([k]) => k.split(':')[0]).join('+')}`); return inner.setMany(items); },
      delMany: async (ks) => { seen.push(`del ${ks.length}`); return inner.delMany(ks); },
    };
    const store = createCheckpointStore(kv);
    await store.save(checkpoint('a', 4));
    await store.save(checkpoint('a', 8));
    expect(seen).toEqual(['set data+latest', 'set data+latest', 'del 1']);
  });
});
