/**
 * The worker's side of "what you loaded last": each model and dataset the person loads is kept
 * (src/io/stores/last-loaded.ts; automatic loads such as the demo at start are not), offered again
 * after a reload, and loaded back in one call: a Hub repo through this browser's cache (no request
 * when it is all there), then the kept dataset file with its options. Keeping never fails a load.
 */
import type { LastLoadedStore, LastModel } from '../io/stores/last-loaded';
import { urlHasCredentials } from '../io/stores/last-loaded';
import type { HubCache } from '../io/model-source/hub/cache';
import type { DatasetOptions, FileProgress, LastLoaded, ModelSourceSpec } from './api';
import type { LoadedDataset } from './dataset';
import type { Loaded } from './loaded';
import { loadModel } from './model';
import { hubCached, storedSource } from './run-inputs';

export type LastLoadedKeeper = LastLoadedStore<DatasetOptions>;

/** The record of a model loaded from `spec`: never a token or a URL's credentials unless the person asked. */
export function lastModelOf(spec: ModelSourceSpec, name: string): Omit<LastModel, 'savedAt'> {
  const remember = (spec.kind === 'hub' || spec.kind === 'url') && spec.rememberToken === true;
  if (spec.kind === 'hub') return { name, source: storedSource(spec), ...(remember && spec.token ? { token: spec.token } : {}) };
  if (spec.kind === 'url') {
    return remember || !urlHasCredentials(spec.base)
      ? { name, source: { kind: 'url', base: spec.base, ...(spec.name ? { name: spec.name } : {}) } }
      : { name, source: { kind: 'url' } };
  }
  return { name, source: storedSource(spec) };
}

/** The spec that loads the kept model again, or null when only the person can (picked files, a URL not kept). */
export function specOf(m: LastModel): ModelSourceSpec | null {
  const s = m.source;
  switch (s.kind) {
    case 'demo':
      return { kind: 'demo' };
    case 'hub':
      return { kind: 'hub', repo: s.repo, ...(s.revision ? { revision: s.revision } : {}), ...(s.endpoint ? { endpoint: s.endpoint } : {}), ...(m.token ? { token: m.token } : {}) };
    case 'url':
      return 'base' in s ? { kind: 'url', base: s.base, ...(s.name ? { name: s.name } : {}) } : null;
    case 'files':
      return null;
  }
}

/** Keep a model the person loaded (a storage failure is ignored: the load itself succeeded). */
export async function keepModel(store: LastLoadedKeeper, spec: ModelSourceSpec, name: string): Promise<void> {
  await store.setModel(lastModelOf(spec, name)).catch(() => undefined);
}

/** Keep a dataset the person loaded, with its options. */
export async function keepDataset(store: LastLoadedKeeper, d: LoadedDataset): Promise<void> {
  await store.setDataset(d.file, d.name, d.options).catch(() => undefined);
}

/** What was loaded last, as the page offers it. */
export async function lastLoaded(store: LastLoadedKeeper, hubCache: HubCache): Promise<LastLoaded> {
  const [m, d] = await Promise.all([store.model().catch(() => undefined), store.dataset().catch(() => undefined)]);
  let model: LastLoaded['model'] = null;
  if (m) {
    const s = m.source;
    const cached = s.kind === 'hub' ? await hubCached(hubCache, s.repo, s.revision) : s.kind === 'demo';
    const spec = specOf(m);
    model = {
      name: m.name, kind: s.kind, canLoad: spec !== null && (s.kind !== 'hub' || cached || !s.withToken || !!m.token), cached,
      ...(s.kind === 'hub' ? { repo: s.repo, ...(s.revision ? { revision: s.revision } : {}), ...(s.endpoint ? { endpoint: s.endpoint } : {}) } : {}),
      ...(s.kind === 'url' && 'base' in s ? { base: s.base } : {}),
      ...(m.token ? { token: m.token } : {}),
    };
  }
  const dataset: LastLoaded['dataset'] = d ? { name: d.name, bytes: d.bytes, kept: d.blob !== null, options: d.options } : null;
  return { model, dataset };
}

/**
 * Load the kept model (unless it is the one loaded, or only the person can load it: picked files)
 * and then the kept dataset with its options. Returns the dataset file, so the page can render it
 * again with other options.
 */
export async function loadLast(
  at: { store: LastLoadedKeeper; hubCache: HubCache; loaded: Loaded }, over: Partial<DatasetOptions>, onProgress: (p: FileProgress) => void,
): Promise<{ datasetFile: File | null }> {
  const { store, loaded } = at;
  const m = await store.model();
  const spec = m ? specOf(m) : null;
  if (spec && m && loaded.model?.info.name !== m.name) {
    const model = await loadModel(spec, onProgress, at.hubCache);
    await loaded.useModel(model, spec);
  }
  const d = await store.dataset();
  if (!d) return { datasetFile: null };
  if (!d.blob) throw new Error(`"${d.name}" was too large to keep in this browser: load it again in Model & data`);
  const file = new File([d.blob], d.name);
  await loaded.useDataset(file, { ...d.options, ...over });
  return { datasetFile: file };
}
