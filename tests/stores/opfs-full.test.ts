/**
 * The Hub cache in OPFS when the disk is full: a write the browser refuses (QuotaExceededError
 * from a writable stream) becomes a StorageFullError naming the file, its size and the space left.
 * OPFS is simulated by a minimal directory handle (Node has none).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { opfsCache } from '../../src/io/model-source/hub/opfs-cache';
import { StorageFullError } from '../../src/io/stores/storage-errors';

/** A directory whose files accept `room` bytes in all, then refuse as a full disk does. */
function fullDir(room: number): FileSystemDirectoryHandle {
  let used = 0;
  const file = () => ({
    kind: 'file',
    async createWritable() {
      return {
        async write(chunk: Uint8Array | string) {
          const n = typeof chunk === 'string' ? chunk.length : chunk.byteLength;
          if (used + n > room) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          used += n;
        },
        async truncate() {}, async seek() {}, async close() {},
      };
    },
  });
  const dir = (): unknown => ({ kind: 'directory', getDirectoryHandle: async () => dir(), getFileHandle: async () => file() });
  return dir() as FileSystemDirectoryHandle;
}

afterEach(() => vi.unstubAllGlobals());

describe('the OPFS model cache on a full disk', () => {
  it('a refused write is a StorageFullError naming the file, its size and the space left', async () => {
    vi.stubGlobal('navigator', { storage: { estimate: async () => ({ quota: 10 * 2 ** 20, usage: 10 * 2 ** 20 - 4096 }) } });
    const repo = opfsCache('hf-hub', fullDir(6000)).repo('org/model');
    const entry = { path: 'model.safetensors', size: 10_000, etag: 'abc' };
    const w = await repo.openWriter('c0ffee', entry, 0);
    await w.write(new Uint8Array(4000));
    const err = await w.write(new Uint8Array(4000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as Error).message).toMatch(/^cannot save the model file "[^"]*" in the download cache \(7\.8 KiB\): this site's browser storage is full \(4\.0 KiB left\)/);
    expect((err as Error).message).toMatch(/delete cached models/);
    // Other failures pass through as they are.
    const broken = { kind: 'directory', getDirectoryHandle: async () => { throw new TypeError('boom'); } } as unknown as FileSystemDirectoryHandle;
    await expect(opfsCache('hf-hub', broken).repo('org/m').writeRef('main', 'c0ffee')).rejects.toThrow(/boom/);
  });
});
