// Browser-safe entry point of the model sources (the Node folder and Node cache live in ./node.ts).
export type { FileProgress, ModelFiles, OpenedBytes, ProgressListener, ReadPurpose } from './types';
export { HubError } from './errors';
export { openModel, type LoaderOptions, type ModelSource } from './model';
export {
  buildTensorIndex, checkTensors, expectedTensors, findWeightFiles, INDEX_FILE, SINGLE_FILE,
  type TensorEntry, type TensorIndex, type WeightFiles,
} from './weight-files';
export { modelTokenizer, readTokenizerFiles, summarizeTokenizer, type TokenizerJsonFiles, type TokenizerSummary } from './tokenizer-files';
export { summarizeModel, type ModelSummary } from './summary';
export { fileModelFiles } from './local-files';
export { urlModelFiles, type UrlFilesOptions } from './url-files';
export { openHubFiles, type HubSourceOptions } from './hub/hub-files';
export type { HubCache, HubFileEntry, HubManifest, RepoCache } from './hub/cache';
export { memoryCache } from './hub/memory-cache';
export { opfsAvailable, opfsCache } from './hub/opfs-cache';
export { checkRepoId, DEFAULT_ENDPOINT, hubEndpoint, HUB_PREFIX, isHubSpec, parseHubSpec, type HubRepoSpec } from './hub/repo-spec';

import { openHubFiles, type HubSourceOptions } from './hub/hub-files';
import { opfsAvailable, opfsCache } from './hub/opfs-cache';
import { fileModelFiles } from './local-files';
import { openModel, type ModelSource } from './model';
import { urlModelFiles, type UrlFilesOptions } from './url-files';
import type { HubCache } from './hub/cache';

/** The browser's persistent Hub cache (OPFS), or null where there is none (every read then goes to the network). */
export function browserHubCache(): HubCache | null {
  return opfsAvailable() ? opfsCache() : null;
}

/** A Hub model; `cache` defaults to the browser's OPFS cache. */
export async function openHubModel(opts: Omit<HubSourceOptions, 'cache'> & { cache?: HubCache | null }): Promise<ModelSource> {
  return openModel(await openHubFiles({ ...opts, cache: opts.cache === undefined ? browserHubCache() : opts.cache }));
}

/** A model from picked or dropped files. */
export function openFilesModel(files: Iterable<File>, name?: string): Promise<ModelSource> {
  return openModel(fileModelFiles(files, name));
}

/** A model under a URL base, e.g. the bundled demo. */
export function openUrlModel(base: string, opts?: UrlFilesOptions): Promise<ModelSource> {
  return openModel(urlModelFiles(base, opts));
}
