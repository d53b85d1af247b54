/** The finetuned models library: whole-or-absent saves, listings without weights, edit, delete with undo, a full disk. */
import { describe, expect, it } from 'vitest';
import { createFullModelStore, type FullModelFiles } from '../../src/io/stores/full-models';
import { memoryKv, withStorageErrors } from '../../src/io/stores/kv';
import { StorageFullError } from '../../src/io/stores/storage-errors';

const files = (n: number): FullModelFiles => ({
  weights: new Uint8Array(n).fill(7), configJson: '{"model_type":"llama"}', generationConfigJson: '{}',
  tokenizer: [{ name: 'tokenizer.json', bytes: new TextEncoder().encode('{}') }],
});
const meta = (name: string) => ({ name, baseModel: 'studio-demo', trainableParams: 133440, runId: 'run-1' });

describe('finetuned models store', () => {
  it('saves meta and files together, lists newest first without weights, edits, trashes, restores and deletes', async () => {
    const kv = memoryKv();
    const store = createFullModelStore(kv);
    const a = await store.save(meta('a'), files(100));
    await new Promise((r) => setTimeout(r, 2));
    const b = await store.save(meta('b'), files(200));
    expect(b.sizeBytes).toBe(200);
    expect((await store.list()).map((m) => m.name)).toEqual(['b', 'a']);
    expect(Object.keys(await store.list().then((l) => l[0]))).not.toContain('weights');
    expect(await store.files(a.id)).toEqual(files(100));
    expect(await store.edit(a.id, { name: '  renamed ', note: 'lr 1e-4' })).toMatchObject({ name: 'renamed', note: 'lr 1e-4' });
    await expect(store.edit(a.id, { name: ' ' })).rejects.toThrow(/needs a name/);
    await store.trash(a.id);
    expect((await store.list()).map((m) => m.id)).toEqual([b.id]);
    expect((await store.trashed()).map((m) => m.id)).toEqual([a.id]);
    await store.restore(a.id);
    expect(await store.list()).toHaveLength(2);
    await store.delete(a.id);
    expect(await store.meta(a.id)).toBeUndefined();
    await expect(store.files(a.id)).rejects.toThrow(/not in the library/);
    expect((await kv.keys()).sort()).toEqual([`files:${b.id}`, `meta:${b.id}`]);
  });

  it('a save over the quota is the clear storage error and stores nothing; earlier models stay whole', async () => {
    const kv = memoryKv({ quotaBytes: 5000 });
    const store = createFullModelStore(withStorageErrors(kv, 'the finetuned model'));
    const kept = await store.save(meta('kept'), files(1000));
    const err = await store.save(meta('too big'), files(10_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as Error).message).toMatch(/^cannot save the finetuned model "too big" \(10\.\d KiB\): this site's browser storage is full \(\d+\.\d KiB left\)\. Nothing stored before was changed\./);
    expect((await store.list()).map((m) => m.id)).toEqual([kept.id]);
    expect((await store.files(kept.id)).weights).toEqual(files(1000).weights);
    expect((await kv.keys()).sort()).toEqual([`files:${kept.id}`, `meta:${kept.id}`]);
  });
});
