/**
 * What the person loaded last, kept across reloads in its own IndexedDB database so the studio can
 * offer it again in one click: how the base model was loaded (the demo, a Hub repo with revision
 * and address, a URL, or the names of files picked from disk) and the dataset file with the options
 * it was read with.
 *
 * Keys: `model` and `dataset`. A Hub access token is kept only when the person asked for it; a URL
 * that carries credentials (user:password@ or a query string, as signed addresses do) is kept under
 * the same rule. A dataset above `maxDatasetBytes` keeps only its name.
 */
import { idbKv, type Kv } from './kv';
import { MAX_STORED_DATASET_BYTES, type StoredModelSource } from './run-inputs';

/** How the last model was loaded: the source without secrets, and the secret only when asked. */
export interface LastModel {
  name: string;
  source: StoredModelSource | { kind: 'url'; base: string; name?: string };
  /** The access token, kept only at the person's request ("remember the token"). */
  token?: string;
  savedAt: number;
}

export interface LastDataset<Options extends object = object> {
  name: string;
  bytes: number;
  options: Options;
  /** The file's bytes; null when it was too large to keep. */
  blob: Blob | null;
  savedAt: number;
}

export interface LastLoadedStore<Options extends object = object> {
  model(): Promise<LastModel | undefined>;
  dataset(): Promise<LastDataset<Options> | undefined>;
  setModel(m: Omit<LastModel, 'savedAt'>): Promise<void>;
  /** Keep the file (when it fits under the cap) and its options. */
  setDataset(file: Blob, name: string, options: Options): Promise<void>;
  /** New options for the dataset kept (the same file, rendered otherwise). */
  setDatasetOptions(options: Options): Promise<void>;
  clear(): Promise<void>;
}

/** Whether a model address carries credentials: user:password@host, or a query string (signed URLs). */
export function urlHasCredentials(base: string): boolean {
  try {
    const u = new URL(base);
    return u.username !== '' || u.password !== '' || u.search !== '';
  } catch {
    return true; // not an address we can read: treat it as secret
  }
}

export function createLastLoadedStore<Options extends object = object>(
  kv: Kv = idbKv('finetune-studio-last-loaded', 'the dataset kept to offer it again'),
  opts: { maxDatasetBytes?: number } = {},
): LastLoadedStore<Options> {
  const cap = opts.maxDatasetBytes ?? MAX_STORED_DATASET_BYTES;
  return {
    model: () => kv.get<LastModel>('model'),
    dataset: () => kv.get<LastDataset<Options>>('dataset'),
    setModel: (m) => kv.set('model', { ...m, savedAt: Date.now() } satisfies LastModel),
    setDataset: (file, name, options) => kv.set('dataset', {
      name, bytes: file.size, options, blob: file.size <= cap ? file.slice(0, file.size) : null, savedAt: Date.now(),
    } satisfies LastDataset<Options>),
    async setDatasetOptions(options) {
      const d = await kv.get<LastDataset<Options>>('dataset');
      if (d) await kv.set('dataset', { ...d, options });
    },
    clear: async () => kv.delMany(['model', 'dataset']),
  };
}
