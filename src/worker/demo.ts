import { urlModelFiles } from '../io/model-source/url-files';
import type { ModelFiles } from '../io/model-source/types';

/**
 * Where the bundled demo (model, tokenizer, dataset) is served: public/demo/ next to the page.
 * VITE_DEMO_BASE points elsewhere (a folder under the project root) for development.
 */
export function demoPath(): string {
  const env = (import.meta as ImportMeta & { env?: Record<string, string | undefined> }).env;
  return env?.VITE_DEMO_BASE || `${env?.BASE_URL ?? '/'}demo/`;
}

/** The demo folder as an absolute URL, from the page or the worker. */
export function demoUrl(file = ''): string {
  return new URL(demoPath() + file, self.location.href).href;
}

/**
 * The files of the bundled demo model (scripts/make-demo writes them; a test checks this list
 * against public/demo). Knowing them, loading the demo asks for nothing that is not there: no
 * `model.safetensors.index.json` (the demo is one file), no HEAD to find out what exists.
 */
export const DEMO_MODEL_FILES = ['config.json', 'generation_config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json'] as const;

/** The demo model's files under its URL, answered from DEMO_MODEL_FILES where a request would only ask whether a file exists. */
export function demoModelFiles(): ModelFiles {
  const files = urlModelFiles(demoUrl(), { name: 'studio-demo', fetch: completeFetch });
  const known = (file: string) => (DEMO_MODEL_FILES as readonly string[]).includes(file);
  return {
    ...files,
    list: async () => [...DEMO_MODEL_FILES],
    has: async (file) => known(file),
    text: async (file) => (known(file) ? files.text(file) : null),
    bytes: (file, purpose) => files.bytes(file, purpose),
  };
}

/**
 * fetch, with the body of a HEAD answer or an error answer read to its end: a response dropped
 * unread is reported by the browser as an aborted request (net::ERR_ABORTED).
 */
async function completeFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const res = await fetch(input, init);
  if ((init?.method ?? 'GET').toUpperCase() !== 'HEAD' && res.ok) return res;
  await res.arrayBuffer().catch(() => undefined);
  return new Response(null, { status: res.status, statusText: res.statusText, headers: res.headers });
}
