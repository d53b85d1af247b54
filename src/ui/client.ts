/**
 * The page's handle on the training worker: one module worker per tab, wrapped by comlink, with
 * the error transfer handler installed so typed errors arrive as themselves.
 */
import * as Comlink from 'comlink';
import type { StudioApi } from '../worker/api';
import { registerErrorTransfer } from '../worker/errors';
import { requestPersistenceOnce } from '../io/stores/persist';

/** Calls that save something: the first one asks the browser for persistent storage (only a page may ask). */
const SAVES = new Set<string>(['startTraining', 'resumeRun', 'importAdapter', 'loadModel']);
/** loadModel saves only a Hub download (into the OPFS cache). */
const saves = (method: string, args: unknown[]) => method !== 'loadModel' || (args[0] as { kind?: string } | undefined)?.kind === 'hub';

let remote: Comlink.Remote<StudioApi> | null = null;

export function studio(): Comlink.Remote<StudioApi> {
  if (!remote) {
    registerErrorTransfer();
    // ?gpu-limits=default: train under WebGPU's default limits, as a small device would (see AcquireOptions.limits).
    const limits = new URLSearchParams(self.location.search).get('gpu-limits') === 'default' ? ' gpu-limits=default' : '';
    const worker = new Worker(new URL('../worker/studio.worker.ts', import.meta.url), { type: 'module', name: `studio${limits}` });
    const wrapped = Comlink.wrap<StudioApi>(worker);
    remote = new Proxy(wrapped, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof prop !== 'string' || !SAVES.has(prop)) return value;
        return (...args: unknown[]) => {
          if (saves(prop, args)) void requestPersistenceOnce();
          return (value as (...a: unknown[]) => unknown)(...args);
        };
      },
    });
    // The dev server (and the e2e suite on it) can reach the worker API directly, e.g. to make the GPU lost.
    if (import.meta.env.DEV || import.meta.env.VITE_E2E_HOOKS) (globalThis as { __studio?: unknown }).__studio = remote; // tests drive the worker directly
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
