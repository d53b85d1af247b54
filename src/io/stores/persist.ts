/**
 * Persistent storage: without it the browser may evict the studio's adapters, runs, checkpoints
 * and cached models under storage pressure. `persist()` exists only in a page (not in a worker),
 * so the page asks when the studio first saves something; the worker's stores ask too, which is
 * a no-op where the call is missing.
 */

let asked: Promise<boolean | null> | null = null;

/** Ask once per page for persistent storage; null where the browser has no such request. */
export function requestPersistenceOnce(): Promise<boolean | null> {
  asked ??= (async () => {
    const storage = (globalThis.navigator as Navigator | undefined)?.storage;
    if (typeof storage?.persist !== 'function') return null;
    try {
      return (await storage.persisted?.()) || (await storage.persist());
    } catch {
      return null;
    }
  })();
  return asked;
}

/** Whether the browser has granted persistent storage (null where it cannot say). */
export async function isPersisted(): Promise<boolean | null> {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  if (typeof storage?.persisted !== 'function') return null;
  try {
    return await storage.persisted();
  } catch {
    return null;
  }
}
