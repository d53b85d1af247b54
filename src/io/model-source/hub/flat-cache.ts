/**
 * A RepoCache over a small directory-like store, shared by the browser's OPFS cache and the
 * in-memory cache. Layout per repo (`models--org--name/`):
 *   refs/<revision>            the commit a branch or tag pointed to
 *   manifests/<commit>.json    the model's files at that commit (HubManifest)
 *   blobs/<etag>               file contents; complete when its size is the manifest's size
 * A blob is written in place by appending, so an interrupted download resumes from its size.
 */
import { BadFileError } from '../../../core/errors';
import type { OpenedBytes } from '../types';
import type { CacheWriter, HubFileEntry, HubManifest, RepoCache } from './cache';

/** The few operations a flat cache needs from its storage; paths are "dir/name". */
export interface FlatStore {
  readText(path: string): Promise<string | null>;
  writeText(path: string, text: string): Promise<void>;
  /** Size in bytes, or null when absent. */
  size(path: string): Promise<number | null>;
  /** Appends after exactly `offset` bytes (the file is cut to `offset` first). */
  writer(path: string, offset: number): Promise<CacheWriter>;
  open(path: string, name: string): Promise<OpenedBytes>;
  remove(path: string): Promise<void>;
}

/** Keeps names to one path segment: revisions such as "refs/pr/1" and etags become safe names. */
const seg = (s: string) => encodeURIComponent(s);

export function flatRepoCache(store: FlatStore, repo: string): RepoCache {
  const blob = (e: HubFileEntry) => `blobs/${seg(e.etag)}`;
  return {
    readRef: (revision) => store.readText(`refs/${seg(revision)}`).then((t) => t?.trim() || null),
    writeRef: (revision, commit) => store.writeText(`refs/${seg(revision)}`, commit),
    async readManifest(commit) {
      const t = await store.readText(`manifests/${seg(commit)}.json`);
      if (t === null) return null;
      try {
        const m = JSON.parse(t) as HubManifest;
        return Array.isArray(m.files) && m.commit === commit ? m : null;
      } catch {
        return null; // a torn write: treat as absent, the next online load rewrites it
      }
    },
    writeManifest: (m) => store.writeText(`manifests/${seg(m.commit)}.json`, JSON.stringify(m)),
    async stored(_commit, e) {
      const n = await store.size(blob(e));
      return n === null ? 0 : Math.min(n, e.size);
    },
    openWriter: (_commit, e, offset) => store.writer(blob(e), offset),
    async finish(_commit, e) {
      const n = await store.size(blob(e));
      if (n !== e.size) throw new BadFileError(`${repo}/${e.path}`, `cached download has ${n ?? 0} bytes, expected ${e.size}`);
    },
    discard: (_commit, e) => store.remove(blob(e)),
    open: (_commit, e) => store.open(blob(e), `hf:${repo}/${e.path}`),
  };
}
