/**
 * The page's handle on the training worker: one module worker per tab, wrapped by comlink, with
 * the error transfer handler installed so typed errors arrive as themselves.
 */
import * as Comlink from 'comlink';
import type { StudioApi } from '../worker/api';
import { registerErrorTransfer } from '../worker/errors';

let remote: Comlink.Remote<StudioApi> | null = null;

export function studio(): Comlink.Remote<StudioApi> {
  if (!remote) {
    registerErrorTransfer();
    const worker = new Worker(new URL('../worker/studio.worker.ts', import.meta.url), { type: 'module', name: 'studio' });
    remote = Comlink.wrap<StudioApi>(worker);
    // The dev server (and the e2e suite on it) can reach the worker API directly, e.g. to make the GPU lost.
    if (import.meta.env.DEV) (globalThis as { __studio?: unknown }).__studio = remote;
  }
  return remote;
}

/** Wrap a callback so the worker can call it. */
export const callback = <T extends (...args: never[]) => unknown>(fn: T) => Comlink.proxy(fn);

/** The message to show for anything thrown (typed errors already carry a specific one). */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : 'unexpected error';
}
