/**
 * A model served under a URL base (the bundled demo in public/, or any static folder): text files
 * are fetched whole, weights are read with Range requests through urlSource. A URL base cannot be
 * listed, so `has` asks the server (HEAD) and remembers the answer.
 */
import { BadFileError } from '../../core/errors';
import { urlSource } from '../safetensors/url-source';
import type { ModelFiles } from './types';

export interface UrlFilesOptions {
  /** Shown as the model's name (default: the base URL). */
  name?: string;
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

export function urlModelFiles(base: string, opts: UrlFilesOptions = {}): ModelFiles {
  const root = base.endsWith('/') ? base : `${base}/`;
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const known = new Map<string, Promise<boolean>>();
  const get = async (file: string, method: 'GET' | 'HEAD'): Promise<Response | null> => {
    let res: Response;
    try {
      res = await doFetch(root + file, { method, headers: opts.headers });
    } catch (e) {
      throw new BadFileError(root + file, `could not be fetched (${(e as Error).message}); check the address and your connection`);
    }
    if (res.status === 404 || res.status === 410) return null;
    if (!res.ok) throw new BadFileError(root + file, `HTTP ${res.status} ${res.statusText}`);
    // Single-page-app servers (Vite's dev server among them) answer unknown paths with index.html.
    if (!file.endsWith('.html') && (res.headers.get('content-type') ?? '').startsWith('text/html')) {
      void res.body?.cancel().catch(() => undefined);
      return null;
    }
    return res;
  };
  const has = (file: string): Promise<boolean> => {
    let p = known.get(file);
    if (!p) {
      p = get(file, 'HEAD').then((r) => r !== null);
      known.set(file, p);
    }
    return p;
  };
  return {
    name: opts.name ?? root,
    location: root,
    describe: (file) => root + file,
    list: async () => null,
    has,
    async text(file) {
      const res = await get(file, 'GET');
      known.set(file, Promise.resolve(res !== null));
      return res ? res.text() : null;
    },
    async bytes(file) {
      if (!(await has(file))) throw new BadFileError(root + file, 'file is missing (HTTP 404)');
      return urlSource(root + file, { fetch: opts.fetch, headers: opts.headers });
    },
    close: async () => undefined,
  };
}
