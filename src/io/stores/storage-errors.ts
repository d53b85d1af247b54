/**
 * The browser refused a write because this site's storage quota is full (IndexedDB's
 * `QuotaExceededError`, an OPFS write that fails for lack of space). The message names what was
 * being saved, its size, the space left and what to delete; nothing stored before is touched
 * (IndexedDB aborts the whole transaction). Plain fields only, so it survives the worker boundary.
 */

/** A byte count for messages: "1.5 MiB". */
export const mb = (b: number) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(2)} GiB` : b >= 2 ** 20 ? `${(b / 2 ** 20).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`);

export class StorageFullError extends Error {
  override name = 'StorageFullError';
  /** What was being saved, e.g. 'the adapter "r8 query+value"'. */
  readonly what: string;
  readonly bytes: number;
  /** Bytes the browser still allows this site, or -1 when it does not say. */
  readonly freeBytes: number;

  constructor(what: string, bytes: number, freeBytes: number) {
    const left = freeBytes >= 0 ? `${mb(freeBytes)} left` : 'the browser does not say how much is left';
    super(
      `cannot save ${what} (${mb(bytes)}): this site's browser storage is full (${left}). ` +
        'Nothing stored before was changed. Free space in the Storage tab (delete cached models, old checkpoints, runs, adapters or finetuned models you no longer need), then try again.',
    );
    this.what = what;
    this.bytes = bytes;
    this.freeBytes = freeBytes;
  }
}

/** True for the errors a browser throws when a write exceeds the quota. */
export function isQuotaError(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const name = (e as { name?: unknown }).name;
  if (name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED') return true;
  // IndexedDB reports a quota abort on the transaction as an AbortError whose inner error is the quota error.
  const inner = (e as { inner?: unknown; cause?: unknown }).inner ?? (e as { cause?: unknown }).cause;
  return inner !== undefined && inner !== e && isQuotaError(inner);
}

/** Bytes a value takes once structured-cloned (typed arrays by length, text as UTF-16, a little per field). */
export function approxBytes(v: unknown, depth = 0): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'string') return v.length * 2;
  if (typeof v === 'number' || typeof v === 'boolean') return 8;
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (v instanceof ArrayBuffer) return v.byteLength;
  if (typeof Blob !== 'undefined' && v instanceof Blob) return v.size;
  if (depth > 32 || typeof v !== 'object') return 0;
  let n = 0;
  if (Array.isArray(v)) for (const x of v) n += 8 + approxBytes(x, depth + 1);
  else for (const [k, x] of Object.entries(v)) n += k.length * 2 + approxBytes(x, depth + 1);
  return n;
}

/** This site's quota and usage as the browser reports them (nulls where it does not). */
export async function storageEstimate(): Promise<{ quota: number | null; usage: number | null }> {
  try {
    const est = await (globalThis.navigator as Navigator | undefined)?.storage?.estimate?.();
    return { quota: est?.quota ?? null, usage: est?.usage ?? null };
  } catch {
    return { quota: null, usage: null };
  }
}
