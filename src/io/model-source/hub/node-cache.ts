// Node only (CLI, tests): imports node:fs.
/**
 * The Hub cache on disk in the layout of Python's huggingface_hub, so a model downloaded by either
 * is reused by the other:
 *   <cache>/models--org--name/refs/<revision>            commit hash
 *   <cache>/models--org--name/blobs/<etag>[.incomplete]   contents (resumed from .incomplete)
 *   <cache>/models--org--name/snapshots/<commit>/<file>   symlink to ../../blobs/<etag>
 * plus `.studio-manifests/<commit>.json` (our file list; huggingface_hub ignores it).
 * The cache folder follows the same environment variables: HF_HUB_CACHE, HF_HOME, XDG_CACHE_HOME.
 */
import { copyFile, mkdir, open, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileSource } from '../../node-file-source';
import type { CacheWriter, HubCache, HubFileEntry, HubManifest, RepoCache } from './cache';

/** huggingface_hub's default cache folder for this environment. */
export function defaultHubCacheDir(env: Record<string, string | undefined> = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HUGGINGFACE_HUB_CACHE) return env.HUGGINGFACE_HUB_CACHE;
  const home = env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface');
  return join(home, 'hub');
}

const sizeOf = (p: string) => stat(p).then((s) => (s.isFile() ? s.size : null), () => null);

async function writeAtomic(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

export function nodeHubCache(dir: string = defaultHubCacheDir()): HubCache {
  return {
    location: dir,
    repo(repoId) {
      return nodeRepoCache(join(dir, `models--${repoId.split('/').join('--')}`));
    },
  };
}

function nodeRepoCache(root: string): RepoCache {
  const blob = (e: HubFileEntry) => join(root, 'blobs', e.etag);
  const snapshot = (commit: string, e: HubFileEntry) => join(root, 'snapshots', commit, e.path);
  const incomplete = (e: HubFileEntry) => `${blob(e)}.incomplete`;
  return {
    readRef: (revision) => readFile(join(root, 'refs', revision), 'utf8').then((t) => t.trim() || null, () => null),
    writeRef: (revision, commit) => writeAtomic(join(root, 'refs', revision), commit),
    async readManifest(commit) {
      try {
        const m = JSON.parse(await readFile(join(root, '.studio-manifests', `${commit}.json`), 'utf8')) as HubManifest;
        return Array.isArray(m.files) && m.commit === commit ? m : null;
      } catch {
        return null;
      }
    },
    writeManifest: (m) => writeAtomic(join(root, '.studio-manifests', `${m.commit}.json`), JSON.stringify(m, null, 1)),
    async stored(commit, e) {
      if ((await sizeOf(snapshot(commit, e))) === e.size || (await sizeOf(blob(e))) === e.size) return e.size;
      return Math.min(e.size, (await sizeOf(incomplete(e))) ?? 0);
    },
    async openWriter(_commit, e, offset): Promise<CacheWriter> {
      await mkdir(dirname(blob(e)), { recursive: true });
      const h = await open(incomplete(e), offset > 0 ? 'r+' : 'w');
      await h.truncate(offset);
      let pos = offset;
      return {
        async write(chunk) {
          let done = 0;
          while (done < chunk.byteLength) done += (await h.write(chunk, done, chunk.byteLength - done, pos + done)).bytesWritten;
          pos += chunk.byteLength;
        },
        close: () => h.close(),
      };
    },
    async finish(commit, e) {
      if ((await sizeOf(blob(e))) !== e.size) await rename(incomplete(e), blob(e));
      const link = snapshot(commit, e);
      if ((await sizeOf(link)) === e.size) return;
      await mkdir(dirname(link), { recursive: true });
      await rm(link, { force: true });
      // huggingface_hub links snapshots to blobs; where symlinks are not allowed, keep a copy.
      await symlink(relative(dirname(link), blob(e)), link).catch(() => copyFile(blob(e), link));
    },
    async discard(commit, e) {
      await Promise.all([rm(incomplete(e), { force: true }), rm(blob(e), { force: true }), rm(snapshot(commit, e), { force: true })]);
    },
    async open(commit, e) {
      const link = snapshot(commit, e);
      return fileSource((await sizeOf(link)) === e.size ? link : blob(e));
    },
  };
}
