/**
 * The base model loaded in the worker: its config, a loader that streams tensors on demand (to
 * the GPU when a run or the playground builds), and its tokenizer. Weights are never held whole
 * in JS memory here.
 */
import type { TensorLoader } from '../io/model-source/types';
import { ModelTokenizer } from '../data/tokenizer';
import { opfsAvailable, opfsCache } from '../io/model-source/hub/opfs-cache';
import { memoryCache } from '../io/model-source/hub/memory-cache';
import type { HubCache } from '../io/model-source/hub/cache';
import { openHubFiles } from '../io/model-source/hub/hub-files';
import { fileModelFiles } from '../io/model-source/local-files';
import { openModel, type ModelSource } from '../io/model-source/model';
import { checkTokenizerFits } from '../io/model-source/tokenizer-files';
import type { ModelFiles } from '../io/model-source/types';
import { urlModelFiles } from '../io/model-source/url-files';
import type { ModelConfig } from '../config/model-config';
import { countBaseParams } from '../config/param-count';
import type { FileProgress, ModelInfo, ModelSourceSpec } from './api';
import { demoModelFiles } from './demo';
import { withProgress } from './progress-files';

export interface LoadedModel {
  info: ModelInfo;
  config: ModelConfig;
  source: ModelSource;
  /** A fresh streaming loader (each run or playground build reads the tensors it needs once); `onRead` gets the bytes of each read. */
  loader(onTensor?: (name: string, done: number, total: number) => void, onRead?: (bytes: number) => void): TensorLoader;
  tensorCount: number;
  tokenizer: ModelTokenizer;
  /** Ids that end generated text: the tokenizer's EOS and config.json's eos_token_id(s). */
  stopIds: number[];
}

async function openFiles(spec: ModelSourceSpec, progress: (p: FileProgress) => void, hubCache?: HubCache): Promise<ModelFiles & { detach?(): void }> {
  switch (spec.kind) {
    case 'demo':
      return withProgress(demoModelFiles(), progress);
    case 'url':
      return withProgress(urlModelFiles(spec.base, { name: spec.name }), progress);
    case 'files':
      return withProgress(fileModelFiles(spec.files), progress);
    case 'hub':
      return openHubFiles({
        repo: spec.repo, revision: spec.revision, accessToken: spec.token, endpoint: spec.endpoint,
        cache: hubCache ?? (opfsAvailable() ? opfsCache() : memoryCache()), onProgress: progress,
      });
  }
}

/** `hubCache`: where Hub downloads are kept (default: OPFS where the browser has it, else memory). */
export async function loadModel(spec: ModelSourceSpec, progress: (p: FileProgress) => void, hubCache?: HubCache): Promise<LoadedModel> {
  const files = await openFiles(spec, progress, hubCache);
  const source = await openModel(files);
  const tok = await source.tokenizerFiles();
  const tokenizer = new ModelTokenizer({ tokenizerJson: tok.tokenizerJson, tokenizerConfig: tok.tokenizerConfig ?? {}, name: source.name });
  checkTokenizerFits(files, tokenizer, source.config.vocabSize);
  // Weights are brought close (a hub download lands in the cache) and every header is checked now,
  // so a broken checkpoint fails here, not minutes into a run.
  await source.prepareWeights();
  const index = await source.tensorIndex();
  files.detach?.();
  const config = source.config;
  const eos = config.eosTokenId === undefined ? [] : Array.isArray(config.eosTokenId) ? config.eosTokenId : [config.eosTokenId];
  let weightBytes = 0;
  for (const t of index.values()) weightBytes += t.bytes;
  return {
    config, source, tokenizer, tensorCount: index.size,
    stopIds: [...new Set([tokenizer.eos, ...eos])],
    loader: (onTensor, onRead) => source.loader({ onTensor, onRead }),
    info: {
      name: source.name, source: spec.kind, config, baseParams: countBaseParams(config), weightBytes,
      tokenizer: { vocabSize: tokenizer.vocabSize, bosId: tokenizer.addsBos ? tokenizer.bos : null, eosIds: [tokenizer.eos], padId: tokenizer.pad, hasChatTemplate: tokenizer.chatTemplate !== null },
    },
  };
}
