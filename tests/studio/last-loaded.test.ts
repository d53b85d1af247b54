/**
 * What the person loaded last comes back after a reload: a new studio on the same stores offers the
 * Hub repo (with its address, from the cache) and the dataset with its options, and loads both in
 * one call without a request to the Hub. A token is kept only when asked for; loads the studio
 * makes by itself are not kept; an address with credentials is kept only when asked for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryCache } from '../../src/io/model-source/hub/memory-cache';
import { memoryKv, type Kv } from '../../src/io/stores/kv';
import { createLastLoadedStore, urlHasCredentials } from '../../src/io/stores/last-loaded';
import type { DatasetOptions } from '../../src/worker/api';
import { lastModelOf, specOf } from '../../src/worker/last-loaded';
import { createStudio } from '../../src/worker/studio';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { alpacaFile, tinyModelFiles } from './tiny-model';

const REPO = 'org/gated-tiny';
const TOKEN = 'hf_secret_token_of_the_person';
const options: DatasetOptions = { template: 'model', maskPrompt: true, maxSeqLen: 48, validationFraction: 0.25, seed: 3 };

let hub: HubServer;
beforeAll(async () => {
  const files = Object.fromEntries(await Promise.all(tinyModelFiles().map(async (f) => [f.name, new Uint8Array(await f.arrayBuffer())] as const)));
  hub = await startHubServer({ [REPO]: { files, token: TOKEN } });
});
afterAll(() => hub?.close());

/** A page's studio over stores that outlive it (IndexedDB and the OPFS cache in the browser). */
function page(kv: Kv, hubCache: ReturnType<typeof memoryCache>) {
  return createStudio({ gpu: () => undefined, hubCache, lastLoaded: createLastLoadedStore<DatasetOptions>(kv) });
}

const storedText = async (kv: Kv) => JSON.stringify(await kv.entries());

describe('what was loaded last', () => {
  it('is offered after a reload and loads again from the cache in one call, without the token', async () => {
    const kv = memoryKv();
    const cache = memoryCache();
    const first = page(kv, cache);
    await first.loadModel({ kind: 'hub', repo: REPO, endpoint: hub.url, token: TOKEN });
    const loadedSummary = await first.loadDataset(alpacaFile(), options);
    expect(await storedText(kv)).not.toContain(TOKEN);

    hub.reset();
    const next = page(kv, cache);
    const last = await next.lastLoaded();
    expect(last.model).toEqual({ name: REPO, kind: 'hub', repo: REPO, endpoint: hub.url, cached: true, canLoad: true });
    expect(last.dataset).toMatchObject({ name: 'tiny.jsonl', kept: true, options });
    const r = await next.loadLast();
    expect(hub.requests).toEqual([]);
    expect(r.model?.name).toBe(REPO);
    expect(r.datasetFile?.name).toBe('tiny.jsonl');
    expect(r.dataset).toMatchObject({ name: 'tiny.jsonl', train: loadedSummary.train, validation: loadedSummary.validation });
  });

  it('keeps the token when asked to, and the options a dataset was last rendered with', async () => {
    const kv = memoryKv();
    const s = page(kv, memoryCache());
    await s.loadModel({ kind: 'hub', repo: REPO, endpoint: hub.url, token: TOKEN, rememberToken: true });
    await s.loadDataset(alpacaFile(), options);
    await s.updateDatasetOptions({ ...options, validationFraction: 0.5 });
    const last = await page(kv, memoryCache()).lastLoaded();
    expect(last.model?.token).toBe(TOKEN);
    expect(last.model?.cached).toBe(false); // another browser's cache: loads again from the Hub, with the token
    expect(last.dataset?.options.validationFraction).toBe(0.5);
  });

  it('does not keep what the studio loads by itself', async () => {
    const kv = memoryKv();
    const s = page(kv, memoryCache());
    await s.loadModel({ kind: 'files', files: tinyModelFiles() }, undefined, { remember: false });
    await s.loadDataset(alpacaFile(), options, { remember: false });
    expect(await s.lastLoaded()).toEqual({ model: null, dataset: null });
    await s.loadModel({ kind: 'files', files: tinyModelFiles() });
    // Picked files cannot be opened again by the page: named, not offered.
    expect((await s.lastLoaded()).model).toMatchObject({ kind: 'files', canLoad: false });
  });

  it('an address with credentials is kept only when asked to; the kept record loads the same source', () => {
    expect(urlHasCredentials('https://models.example/tiny')).toBe(false);
    expect(urlHasCredentials('https://user:pw@models.example/tiny')).toBe(true);
    expect(urlHasCredentials('https://models.example/tiny?X-Amz-Signature=abc')).toBe(true);
    expect(lastModelOf({ kind: 'url', base: 'https://models.example/tiny?sig=1' }, 'tiny').source).toEqual({ kind: 'url' });
    expect(lastModelOf({ kind: 'url', base: 'https://models.example/tiny?sig=1', rememberToken: true }, 'tiny').source).toEqual({ kind: 'url', base: 'https://models.example/tiny?sig=1' });
    const hubSpec = { kind: 'hub' as const, repo: REPO, revision: 'v1', endpoint: 'https://mirror.example', token: TOKEN };
    expect(lastModelOf(hubSpec, REPO)).toEqual({ name: REPO, source: { kind: 'hub', repo: REPO, revision: 'v1', endpoint: 'https://mirror.example', withToken: true } });
    expect(specOf({ ...lastModelOf({ ...hubSpec, rememberToken: true }, REPO), savedAt: 0 })).toEqual(hubSpec);
    expect(specOf({ ...lastModelOf({ kind: 'files', files: [] }, 'x'), savedAt: 0 })).toBeNull();
  });
});
