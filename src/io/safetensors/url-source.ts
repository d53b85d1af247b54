import { BadFileError } from '../../core/errors';
import { checkLength, checkRange, type ByteSource } from './byte-source';

export interface UrlSourceInit {
  /** Injected for tests and for callers that wrap fetch (auth, progress). */
  fetch?: typeof fetch;
  /** Sent with every request, e.g. `Authorization: Bearer ...` for gated repos. */
  headers?: Record<string, string>;
}

/**
 * Below this size a server that ignores `Range` is tolerated: the whole body is read once and
 * served from memory. Above it, downloading the whole file for every tensor would be a disaster.
 */
const WHOLE_BODY_LIMIT = 16 * 1024 * 1024;

const CONTENT_RANGE = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i;

/**
 * A file on an HTTP server that honours `Range` (the Hugging Face hub and its CDN do). The size
 * comes from HEAD, or from `Content-Range` of a one-byte ranged GET when HEAD is not allowed.
 */
export async function urlSource(url: string, init: UrlSourceInit = {}): Promise<ByteSource> {
  const doFetch = init.fetch ?? globalThis.fetch.bind(globalThis);
  const baseHeaders = init.headers ?? {};
  let whole: Uint8Array | null = null; // set when the server sent the whole (small) file

  async function request(method: string, range?: string): Promise<Response> {
    const headers = range ? { ...baseHeaders, Range: range } : baseHeaders;
    try {
      return await doFetch(url, { method, headers });
    } catch (e) {
      throw new BadFileError(url, `could not be fetched (${(e as Error).message}); check the address and your connection`);
    }
  }

  function httpError(res: Response): BadFileError {
    discard(res);
    const hint = res.status === 401 || res.status === 403 ? '; the file may be gated: sign in or pass a token' : '';
    return new BadFileError(url, `HTTP ${res.status} ${res.statusText}${hint}`);
  }

  /** Keeps a 200 response's body when it is small enough; otherwise refuses it. */
  async function acceptWhole(res: Response, expected: number | null): Promise<Uint8Array> {
    const declared = contentLength(res);
    const n = declared ?? expected;
    if (n === null || n > WHOLE_BODY_LIMIT) {
      discard(res);
      throw new BadFileError(
        url,
        `the server ignored the Range request (HTTP 200 instead of 206) for a ${n ?? 'large'}-byte file; ` +
          'download the file and open it from disk instead',
      );
    }
    const body = new Uint8Array(await res.arrayBuffer());
    if (expected !== null) checkLength(url, body.byteLength, 0, expected);
    return body;
  }

  async function probeSize(): Promise<number> {
    const head = await request('HEAD');
    if (head.ok) {
      const n = contentLength(head);
      if (n !== null && !head.headers.get('content-encoding')) return n;
    }
    const res = await request('GET', 'bytes=0-0');
    if (res.status === 206) {
      const m = CONTENT_RANGE.exec(res.headers.get('content-range') ?? '');
      discard(res);
      if (!m || m[3] === '*') throw new BadFileError(url, 'the server did not say how large the file is (no Content-Length or Content-Range total)');
      return Number(m[3]);
    }
    if (res.status === 200) {
      whole = await acceptWhole(res, null);
      return whole.byteLength;
    }
    throw httpError(res);
  }

  const size = await probeSize();

  async function read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(url, size, offset, length);
    if (length === 0) return new Uint8Array(0); // `bytes=a-(a-1)` is not a valid range
    if (whole) return whole.subarray(offset, offset + length);
    const res = await request('GET', `bytes=${offset}-${offset + length - 1}`);
    if (res.status === 200) {
      whole = await acceptWhole(res, size);
      return whole.subarray(offset, offset + length);
    }
    if (res.status !== 206) throw httpError(res);
    const m = CONTENT_RANGE.exec(res.headers.get('content-range') ?? '');
    if (m && Number(m[1]) !== offset) {
      discard(res);
      throw new BadFileError(url, `the server answered a range request for offset ${offset} with bytes from offset ${m[1]}`);
    }
    const ab = await res.arrayBuffer();
    checkLength(url, ab.byteLength, offset, length);
    return new Uint8Array(ab);
  }

  return { size, read, describe: () => url };
}

function contentLength(res: Response): number | null {
  const v = res.headers.get('content-length');
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

/** Drops a body we will not read so the connection can be reused. */
function discard(res: Response): void {
  res.body?.cancel().catch(() => undefined);
}
