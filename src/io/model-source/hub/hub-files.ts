/**
 * A Hugging Face Hub repo as ModelFiles. The first load lists the repo (one API call), learns the
 * commit `main` points to, and records both in the cache; files are downloaded into the cache when
 * first read whole. A later load finds ref, manifest and files in the cache and makes no request
 * at all (the Hub is asked again only for what is missing, or with `revalidate`).
 * Safetensors headers can be read with a few Range requests, without downloading the weights.
 */
import { downloadFile, fileDownloadInfo, listFiles } from '@huggingface/hub';
import { BadFileError } from '../../../core/errors';
import type { ByteSource } from '../../safetensors/byte-source';
import { checkLength, checkRange } from '../../safetensors/byte-source';
import { HubError } from '../errors';
import { isPlainFileName, type ModelFiles, type OpenedBytes, type ProgressListener, type ReadPurpose } from '../types';
import type { HubCache, HubFileEntry, HubManifest, RepoCache } from './cache';
import { downloadToCache, guardedFetch, hubErrorFrom, type DownloadContext } from './download';
import { checkRepoId, hubEndpoint, isCommitHash } from './repo-spec';

export interface HubSourceOptions {
  /** "org/name" */
  repo: string;
  /** Branch, tag or commit (default "main"). */
  revision?: string;
  /** The Hub address (HF_ENDPOINT's convention); default https://huggingface.co. */
  endpoint?: string;
  /** An access token ("hf_...") for gated or private repos. */
  accessToken?: string;
  /** Where downloads are kept; null reads every range from the network and keeps nothing. */
  cache: HubCache | null;
  fetch?: typeof fetch;
  /** Per-file download progress (also once per file found in the cache, with `cached`). */
  onProgress?: ProgressListener;
  signal?: AbortSignal;
  /** Ask the Hub for the current file list even when the cache knows one (default false). */
  revalidate?: boolean;
  /** Never use the network (HF_HUB_OFFLINE); fails when something needed is not cached. */
  offline?: boolean;
  retries?: number;
  retryDelayMs?: number;
}

export async function openHubFiles(opts: HubSourceOptions): Promise<ModelFiles> {
  checkRepoId(opts.repo);
  const repo = opts.repo;
  const revision = opts.revision ?? 'main';
  const endpoint = hubEndpoint(opts.endpoint);
  const where = `hf:${repo}`;
  let seenCommit: string | null = null;
  const baseFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const fetchFn = guardedFetch(async (input, init) => {
    if (opts.offline) throw new HubError(repo, `${where}: needs the network, but offline mode is on (HF_HUB_OFFLINE) and the cache does not hold it`);
    const res = await baseFetch(input, init);
    seenCommit ??= res.headers.get('x-repo-commit');
    return res;
  }, opts.signal);
  const rc: RepoCache | null = opts.cache?.repo(repo) ?? null;
  const ctxErr = { repo, endpoint, accessToken: opts.accessToken, revision };

  let manifest: HubManifest | null = null;
  if (rc && !opts.revalidate) {
    const commit = isCommitHash(revision) ? revision : await rc.readRef(revision);
    manifest = commit ? await rc.readManifest(commit) : null;
  }
  if (!manifest) {
    try {
      manifest = await listRepo(repo, revision, endpoint, opts.accessToken, fetchFn, () => seenCommit);
    } catch (e) {
      throw hubErrorFrom(e, ctxErr);
    }
    if (rc) {
      await rc.writeManifest(manifest);
      if (!isCommitHash(revision)) await rc.writeRef(revision, manifest.commit);
    }
  }
  const m = manifest;
  const entries = new Map(m.files.map((f) => [f.path, f]));
  // URLs name the commit once known, so every file comes from the same snapshot.
  const urlRevision = isCommitHash(m.commit) ? m.commit : revision;
  const dl: DownloadContext | null = rc && {
    repo, revision: urlRevision, commit: m.commit, endpoint, accessToken: opts.accessToken, fetch: fetchFn, cache: rc,
    retries: opts.retries ?? 3, retryDelayMs: opts.retryDelayMs ?? 500, onProgress: opts.onProgress, signal: opts.signal,
  };
  const downloads = new Map<string, Promise<void>>();
  const opened: OpenedBytes[] = [];

  const entry = (file: string): HubFileEntry => {
    const e = entries.get(file);
    if (!e) throw new BadFileError(`${where}/${file}`, `is not in the repository (at commit ${m.commit.slice(0, 12)})`);
    return e;
  };
  const ensure = (e: HubFileEntry): Promise<void> => {
    let p = downloads.get(e.path);
    if (!p) {
      p = downloadToCache(dl!, e);
      downloads.set(e.path, p);
      p.catch(() => downloads.delete(e.path)); // a later call retries (and resumes)
    }
    return p;
  };
  const remote = async (e: HubFileEntry): Promise<ByteSource> => {
    const common = { repo, path: e.path, revision: urlRevision, hubUrl: endpoint, accessToken: opts.accessToken, fetch: fetchFn };
    try {
      const info = await fileDownloadInfo(common);
      const blob = info && (await downloadFile({ ...common, downloadInfo: info, xet: false }));
      if (!blob) throw new BadFileError(`${where}/${e.path}`, 'is listed but the Hub says it does not exist');
      return blobRangeSource(blob, `${where}/${e.path}`, (err) => hubErrorFrom(err, ctxErr));
    } catch (err) {
      throw hubErrorFrom(err, ctxErr);
    }
  };
  const open = async (file: string, purpose: ReadPurpose): Promise<OpenedBytes> => {
    const e = entry(file);
    if (rc && (purpose === 'all' || (await rc.stored(m.commit, e)) === e.size)) {
      await ensure(e);
      return rc.open(m.commit, e);
    }
    return remote(e);
  };

  return {
    name: repo,
    location: where,
    describe: (file) => `${where}/${file}`,
    list: async () => [...entries.keys()],
    has: async (file) => entries.has(file),
    async text(file) {
      if (!entries.has(file)) return null;
      const src = await open(file, 'all');
      try {
        return new TextDecoder().decode(await src.read(0, src.size));
      } finally {
        await src.close?.();
      }
    },
    async bytes(file, purpose) {
      const src = await open(file, purpose);
      opened.push(src);
      return src;
    },
    async close() {
      await Promise.all(opened.splice(0).map((s) => s.close?.()));
    },
  };
}

/** The repo's root files at `revision`, and the commit (from X-Repo-Commit of a small file's probe). */
async function listRepo(
  repo: string, revision: string, endpoint: string, accessToken: string | undefined, fetchFn: typeof fetch, commitSeen: () => string | null,
): Promise<HubManifest> {
  const files: HubFileEntry[] = [];
  for await (const f of listFiles({ repo, revision, hubUrl: endpoint, accessToken, fetch: fetchFn })) {
    if (f.type !== 'file' || !isPlainFileName(f.path)) continue;
    const etag = f.lfs?.oid ?? f.oid;
    if (!etag || !/^[0-9a-f]{40,64}$/.test(etag)) throw new HubError(repo, `hf:${repo}: the Hub listed ${f.path} without a usable id (oid)`);
    files.push({ path: f.path, size: f.size, etag });
  }
  if (!files.some((f) => f.path === 'config.json')) {
    throw new BadFileError(`hf:${repo}/config.json`, 'file is missing: the repository has no config.json at its root, so it is not a Transformers model');
  }
  let commit = isCommitHash(revision) ? revision : null;
  if (!commit) {
    await fileDownloadInfo({ repo, path: 'config.json', revision, hubUrl: endpoint, accessToken, fetch: fetchFn });
    commit = commitSeen() ?? revision; // a server without X-Repo-Commit: key the cache by the revision name
  }
  return { repo, commit, files };
}

/** Random access to a Blob whose slices are Range requests (the WebBlob of @huggingface/hub). */
function blobRangeSource(blob: Blob, name: string, mapError: (e: unknown) => Error): ByteSource {
  return {
    size: blob.size,
    async read(offset, length) {
      checkRange(name, blob.size, offset, length);
      if (length === 0) return new Uint8Array(0);
      const ab = await blob.slice(offset, offset + length).arrayBuffer().catch((e: unknown) => {
        throw mapError(e);
      });
      checkLength(name, ab.byteLength, offset, length);
      return new Uint8Array(ab);
    },
    describe: () => name,
  };
}
