/**
 * The browser's Hub cache in the Origin Private File System (`hf-hub/models--org--name/...`, see
 * flat-cache.ts): private to the page's origin, on disk, not counted as JS memory, and readable in
 * slices, so a multi-GB checkpoint is read tensor by tensor from it.
 */
import { blobSource } from '../../safetensors/byte-source';
import type { HubCache } from './cache';
import { flatRepoCache, type FlatStore } from './flat-cache';
import { isQuotaError, storageEstimate, StorageFullError } from '../../stores/storage-errors';

/** An OPFS write that fails for lack of space becomes a StorageFullError naming the file. */
async function guarded<T>(path: string, bytes: number, job: () => Promise<T>): Promise<T> {
  try {
    return await job();
  } catch (e) {
    if (!isQuotaError(e)) throw e;
    const { quota, usage } = await storageEstimate();
    throw new StorageFullError(`the model file "${path}" in the download cache`, bytes, quota !== null && usage !== null ? Math.max(0, quota - usage) : -1);
  }
}

/** True where OPFS with writable streams exists (Chromium, Firefox, Safari 17+ workers). */
export function opfsAvailable(): boolean {
  const s = (globalThis.navigator as Navigator | undefined)?.storage;
  return typeof s?.getDirectory === 'function' && typeof FileSystemFileHandle !== 'undefined' && 'createWritable' in FileSystemFileHandle.prototype;
}

/** A cache under `rootName` in OPFS; asks once for persistent storage so the browser keeps it. */
export function opfsCache(rootName = 'hf-hub', root?: FileSystemDirectoryHandle): HubCache {
  let rootDir: Promise<FileSystemDirectoryHandle> | null = null;
  const getRoot = () =>
    (rootDir ??= (async () => {
      void navigator.storage.persist?.().catch(() => false);
      const base = root ?? (await navigator.storage.getDirectory());
      return base.getDirectoryHandle(rootName, { create: true });
    })());
  return {
    location: `browser storage (OPFS "${rootName}")`,
    repo(repoId) {
      const folder = `models--${repoId.split('/').join('--')}`;
      // Reads never create the repo's folder: a lookup of an uncached repo leaves no empty entry behind.
      const repoDir = async (create: boolean) => {
        try {
          return await (await getRoot()).getDirectoryHandle(folder, { create });
        } catch (e) {
          if (!create && isNotFound(e)) return null;
          throw e;
        }
      };
      return flatRepoCache(opfsStore(repoDir), repoId);
    },
  };
}

const isNotFound = (e: unknown) => e instanceof DOMException && (e.name === 'NotFoundError' || e.name === 'TypeMismatchError');

function opfsStore(repoDir: (create: boolean) => Promise<FileSystemDirectoryHandle | null>): FlatStore {
  /** The directory of "a/b/name" (created on demand) and the leaf name. */
  async function locate(path: string, create: boolean): Promise<[FileSystemDirectoryHandle, string] | null> {
    const parts = path.split('/');
    let dir = await repoDir(create);
    if (!dir) return null;
    try {
      for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p, { create });
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
    return [dir, parts[parts.length - 1]];
  }
  async function file(path: string, create: boolean): Promise<FileSystemFileHandle | null> {
    const at = await locate(path, create);
    if (!at) return null;
    try {
      return await at[0].getFileHandle(at[1], { create });
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }
  return {
    async readText(path) {
      const h = await file(path, false);
      return h ? (await h.getFile()).text() : null;
    },
    async writeText(path, text) {
      await guarded(path, text.length, async () => {
        const w = await (await file(path, true))!.createWritable();
        await w.write(text);
        await w.close();
      });
    },
    async size(path) {
      const h = await file(path, false);
      return h ? (await h.getFile()).size : null;
    },
    async writer(path, offset) {
      const w = await (await file(path, true))!.createWritable({ keepExistingData: true });
      await w.truncate(offset);
      await w.seek(offset);
      let written = offset;
      return {
        write: (chunk) => guarded(path, (written += chunk.byteLength), () => w.write(chunk as Uint8Array<ArrayBuffer>)),
        close: () => guarded(path, written, () => w.close()),
      };
    },
    async open(path, name) {
      const h = await file(path, false);
      if (!h) throw new Error(`browser cache: ${path} is missing`);
      const f = await h.getFile();
      const src = blobSource(f);
      return { ...src, describe: () => name };
    },
    async remove(path) {
      const at = await locate(path, false);
      await at?.[0].removeEntry(at[1]).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    },
  };
}
