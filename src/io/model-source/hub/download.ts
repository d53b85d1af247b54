/**
 * Download one Hub file into the cache with @huggingface/hub, streaming it to storage chunk by
 * chunk (never whole in memory), reporting progress, and resuming: a failure midway keeps the
 * bytes received, a retry asks only for the rest (an HTTP Range from the stored size), and so
 * does the next load when every retry failed.
 */
import { downloadFile, fileDownloadInfo, HubApiError } from '@huggingface/hub';
import { HubError } from '../errors';
import type { ProgressListener } from '../types';
import type { HubFileEntry, RepoCache } from './cache';

export interface DownloadContext {
  repo: string;
  /** The commit (or, when the Hub did not say, the revision) the URLs name. */
  revision: string;
  /** The commit the cache files the download under. */
  commit: string;
  endpoint: string;
  accessToken?: string;
  fetch: typeof fetch;
  cache: RepoCache;
  /** Attempts after the first one that made no progress (default 3). */
  retries: number;
  /** First pause between attempts, doubled each time (default 500 ms). */
  retryDelayMs: number;
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

/**
 * The fetch given to @huggingface/hub: adds the abort signal, and when a server answers a resuming
 * Range request with the whole file (HTTP 200), cuts that body down to the asked range, so the
 * partial file is never corrupted (the bytes before it are downloaded again, and dropped).
 */
export function guardedFetch(base: typeof fetch, signal?: AbortSignal): typeof fetch {
  return async (input, init) => {
    const res = await base(input, { ...init, signal });
    const m = /^bytes=(\d+)-(\d*)$/.exec(new Headers(init?.headers).get('range') ?? '');
    if (res.status !== 200 || !m || !res.body) return res;
    const start = Number(m[1]);
    const end = m[2] === '' ? Infinity : Number(m[2]) + 1;
    let at = 0;
    const cut = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        const a = Math.max(start - at, 0);
        const b = Math.min(end - at, chunk.byteLength);
        at += chunk.byteLength;
        if (b > a) ctl.enqueue(chunk.subarray(a, b));
      },
    });
    const headers = new Headers(res.headers);
    const total = Number(res.headers.get('content-length') ?? NaN);
    headers.delete('content-length');
    if (Number.isSafeInteger(total)) headers.set('content-range', `bytes ${start}-${Math.min(end, total) - 1}/${total}`);
    return new Response(res.body.pipeThrough(cut), { status: 206, statusText: 'Partial Content (cut from a 200)', headers });
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

/** Downloads `entry` unless the cache has it complete; afterwards it is readable from the cache. */
export async function downloadToCache(ctx: DownloadContext, entry: HubFileEntry): Promise<void> {
  const { cache, commit } = ctx;
  let stored = await cache.stored(commit, entry);
  if (stored === entry.size) {
    await cache.finish(commit, entry);
    ctx.onProgress?.({ file: entry.path, loaded: entry.size, total: entry.size, done: true, cached: true });
    return;
  }
  let failures = 0;
  for (;;) {
    const before = stored;
    try {
      await attempt(ctx, entry, stored);
      await cache.finish(commit, entry);
      ctx.onProgress?.({ file: entry.path, loaded: entry.size, total: entry.size, done: true });
      return;
    } catch (e) {
      if (ctx.signal?.aborted) throw ctx.signal.reason ?? e;
      if (e instanceof OverrunError) await cache.discard(commit, entry);
      else if (!isTransient(e)) throw hubErrorFrom(e, ctx);
      stored = await cache.stored(commit, entry);
      failures = stored > before ? 0 : failures + 1; // progress resets the count: a slow, flaky link still finishes
      if (failures > ctx.retries) {
        throw new HubError(
          ctx.repo,
          `hf:${ctx.repo}: the download of ${entry.path} stopped at byte ${stored} of ${entry.size} (${reason(e)}); ` +
            `${stored > 0 ? `load the model again to resume from byte ${stored}` : 'check your connection and load the model again'}`,
        );
      }
      await sleep(ctx.retryDelayMs * 2 ** Math.max(0, failures - 1), ctx.signal);
    }
  }
}

/** The server sent more bytes than the file has. */
class OverrunError extends Error {}

async function attempt(ctx: DownloadContext, entry: HubFileEntry, from: number): Promise<void> {
  const common = { repo: ctx.repo, path: entry.path, revision: ctx.revision, hubUrl: ctx.endpoint, accessToken: ctx.accessToken, fetch: ctx.fetch };
  // Asked again on every attempt: the CDN address it resolves to may have expired.
  const info = await fileDownloadInfo(common);
  if (!info) throw new HubError(ctx.repo, `hf:${ctx.repo}: ${entry.path} is listed but the Hub says it does not exist at ${ctx.revision}`, 404);
  if (info.size !== entry.size) {
    throw new HubError(ctx.repo, `hf:${ctx.repo}: ${entry.path} is ${info.size} bytes on the Hub but was listed as ${entry.size}; load the model again`);
  }
  // xet: false reads the plain /resolve/ URL with Range requests (the Hub serves every file there).
  const blob = await downloadFile({ ...common, downloadInfo: info, xet: false });
  if (!blob) throw new HubError(ctx.repo, `hf:${ctx.repo}: ${entry.path} does not exist at ${ctx.revision}`, 404);
  const reader = (from > 0 ? blob.slice(from) : blob).stream().getReader();
  const writer = await ctx.cache.openWriter(ctx.commit, entry, from);
  const step = Math.max(1 << 20, Math.floor(entry.size / 200)); // progress every 1 MiB or 0.5%
  let at = from;
  let reported = from;
  let finished = false;
  ctx.onProgress?.({ file: entry.path, loaded: from, total: entry.size, done: false });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if ((finished = done)) break;
      if (at + value.byteLength > entry.size) throw new OverrunError(`the server sent more than the ${entry.size} bytes of ${entry.path}`);
      await writer.write(value);
      at += value.byteLength;
      if (at - reported >= step) {
        reported = at;
        ctx.onProgress?.({ file: entry.path, loaded: at, total: entry.size, done: false });
      }
    }
  } finally {
    await writer.close();
    // Stop the body on any error (an overrun, a failed write), or it keeps downloading unread.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  if (at !== entry.size) throw new TypeError(`the connection ended after ${at} of ${entry.size} bytes`);
}

/** Network failures, timeouts, rate limits and server errors are worth another attempt. */
function isTransient(e: unknown): boolean {
  if (e instanceof HubApiError) return e.statusCode === 408 || e.statusCode === 429 || e.statusCode >= 500;
  if (e instanceof HubError) return false;
  // fetch's network errors are TypeErrors ("fetch failed", "Failed to fetch", "terminated", "network error"); a cut-off
  // WebBlob stream rejects with the message string alone. Other TypeErrors are bugs, not the network.
  const NETWORK = /fetch|network|terminated|socket|ECONN|EPIPE|ETIMEDOUT|EAI_AGAIN|ENOTFOUND|connection|load failed/i;
  if (typeof e === 'string') return e.length > 0;
  return e instanceof Error && NETWORK.test(`${e.message} ${(e as { cause?: { message?: string } }).cause?.message ?? ''}`);
}

function reason(e: unknown): string {
  if (typeof e === 'string') return e;
  const err = e as Error & { cause?: { message?: string } };
  return err.cause?.message ? `${err.message}: ${err.cause.message}` : (err.message ?? String(e));
}

/** A message a person can act on for what @huggingface/hub or fetch threw. */
export function hubErrorFrom(e: unknown, ctx: { repo: string; endpoint: string; accessToken?: string; revision?: string }): Error {
  if (e instanceof HubError) return e;
  const where = `hf:${ctx.repo}`;
  if (e instanceof HubApiError) {
    const s = e.statusCode;
    if (s === 401 || s === 403) {
      return new HubError(
        ctx.repo,
        ctx.accessToken
          ? `${where}: the Hub refused the access token (HTTP ${s}); check that it is valid, has read access, and that you accepted the model's license on its page`
          : `${where}: the Hub needs you to sign in (HTTP ${s}); the model is gated or private: accept its license on the model page and give an access token (HF_TOKEN)`,
        s,
      );
    }
    if (s === 404) {
      const rev = ctx.revision && ctx.revision !== 'main' ? ` at revision "${ctx.revision}"` : '';
      return new HubError(ctx.repo, `${where}: not found on ${ctx.endpoint}${rev} (HTTP 404); check the model id (org/name)${rev ? ' and revision' : ''}`, s);
    }
    return new HubError(ctx.repo, `${where}: the Hub answered HTTP ${s} (${e.message})`, s);
  }
  if (e instanceof TypeError && /access token/i.test(e.message)) return new HubError(ctx.repo, `${where}: ${e.message}`);
  if (isTransient(e)) return new HubError(ctx.repo, `${where}: could not reach ${ctx.endpoint} (${reason(e)}); check your connection or the HF_ENDPOINT address`);
  return e instanceof Error ? e : new Error(String(e));
}
