// Node only (CLI, tests): the model folder on disk, the on-disk Hub cache, and `dir | hf:org/name` specs.
import { openHubFiles } from './hub/hub-files';
import { defaultHubCacheDir, nodeHubCache } from './hub/node-cache';
import { isHubSpec, parseHubSpec } from './hub/repo-spec';
import { openModel, type ModelSource } from './model';
import { dirModelFiles } from './node-dir';
import type { ModelFiles, ProgressListener } from './types';

export { dirModelFiles } from './node-dir';
export { defaultHubCacheDir, nodeHubCache } from './hub/node-cache';

export interface ModelSpecOptions {
  /** Environment to read HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE and the cache variables from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Override the cache folder (default: huggingface_hub's, from the environment). */
  cacheDir?: string;
  onProgress?: ProgressListener;
  fetch?: typeof fetch;
  retries?: number;
  retryDelayMs?: number;
}

const truthy = (v: string | undefined) => !!v && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());

/** The files of `hf:org/name[@revision]` (downloaded into the cache on demand) or of a folder. */
export async function openModelFiles(spec: string, opts: ModelSpecOptions = {}): Promise<ModelFiles> {
  if (!isHubSpec(spec)) return dirModelFiles(spec);
  const env = opts.env ?? process.env;
  const { repo, revision } = parseHubSpec(spec);
  return openHubFiles({
    repo, revision, endpoint: env.HF_ENDPOINT, accessToken: env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined,
    cache: nodeHubCache(opts.cacheDir ?? defaultHubCacheDir(env)), offline: truthy(env.HF_HUB_OFFLINE),
    onProgress: opts.onProgress, fetch: opts.fetch, retries: opts.retries, retryDelayMs: opts.retryDelayMs,
  });
}

/** A model from a folder or `hf:org/name[@revision]`, as the CLI's --model takes it. */
export async function openModelSpec(spec: string, opts: ModelSpecOptions = {}): Promise<ModelSource> {
  return openModel(await openModelFiles(spec, opts));
}

/** Download progress as short lines on stderr: a line when a file starts, every 10%, and when done. */
export function stderrProgress(write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): ProgressListener {
  const shown = new Map<string, number>();
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  return (p) => {
    if (p.cached) return write(`cached       ${p.file} (${mb(p.loaded)})`);
    const pct = p.total ? Math.floor((100 * p.loaded) / p.total) : 0;
    const last = shown.get(p.file);
    if (p.done) return write(`downloaded   ${p.file} (${mb(p.loaded)})`);
    if (last === undefined || pct >= last + 10) {
      shown.set(p.file, pct);
      write(`downloading  ${p.file} ${pct}% of ${p.total === null ? '?' : mb(p.total)}`);
    }
  };
}
