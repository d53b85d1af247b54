import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HubError, memoryCache, openHubFiles, openModel, type FileProgress, type HubCache, type HubSourceOptions } from '../../src/io/model-source';
import { nodeHubCache, openModelSpec } from '../../src/io/model-source/node';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { tinyHfModel } from './model-fixture';

const tmp = mkdtempSync(join(tmpdir(), 'model-hub-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const single = tinyHfModel({ seed: 11 });
const sharded = tinyHfModel({ shards: 2, seed: 12 });
const WEIGHTS = single.files['model.safetensors'] as Uint8Array;
const COMMIT = 'c0ffee'.padEnd(40, '0');

let hub: HubServer;
beforeAll(async () => {
  hub = await startHubServer({
    'org/tiny': { files: single.files, commit: COMMIT },
    'org/sharded': { files: sharded.files },
    'org/gated': { files: single.files, token: 'hf_secret' },
    'org/no-config': { files: { 'README.md': '# nothing' } },
    'org/mirror': { files: single.files, noCommitHeader: true },
  });
});
afterAll(() => hub.close());
beforeEach(() => hub.reset());

let n = 0;
const freshDir = () => join(tmp, `cache-${n++}`);

async function loadEverything(opts: Partial<HubSourceOptions> & { repo: string; cache: HubCache | null }, m = single) {
  const src = await openModel(await openHubFiles({ endpoint: hub.url, retryDelayMs: 1, ...opts }));
  const load = src.loader();
  for (const [name, want] of m.weights) expect(await load(name)).toEqual(want);
  await src.close();
  return src;
}

describe('a model from the Hub (local stand-in)', () => {
  it.each([
    ['a cache folder (Node, huggingface_hub layout)', () => nodeHubCache(freshDir())],
    ['a flat cache (the browser layout, in memory)', () => memoryCache()],
  ])('downloads once with progress into %s; the second load makes no request', async (_, makeCache) => {
    const cache = makeCache();
    const events: FileProgress[] = [];
    await loadEverything({ repo: 'org/tiny', cache, onProgress: (e) => events.push(e) });
    expect(hub.count).toBeGreaterThan(0);
    const done = events.filter((e) => e.done);
    expect(done.map((e) => e.file).sort()).toEqual(['config.json', 'model.safetensors']);
    expect(done.find((e) => e.file === 'model.safetensors')).toMatchObject({ loaded: WEIGHTS.byteLength, total: WEIGHTS.byteLength });
    expect(events.every((e) => e.loaded <= (e.total ?? Infinity) && !e.cached)).toBe(true);

    hub.reset();
    const again: FileProgress[] = [];
    await loadEverything({ repo: 'org/tiny', cache, onProgress: (e) => again.push(e) });
    expect(hub.requests).toEqual([]);
    expect(again.every((e) => e.cached && e.done)).toBe(true);
  });

  it('keeps huggingface_hub\'s cache layout: refs, blobs by etag, snapshot symlinks', async () => {
    const dir = freshDir();
    await loadEverything({ repo: 'org/tiny', cache: nodeHubCache(dir) });
    const repo = join(dir, 'models--org--tiny');
    expect(readFileSync(join(repo, 'refs', 'main'), 'utf8')).toBe(COMMIT);
    const link = join(repo, 'snapshots', COMMIT, 'model.safetensors');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{64}$/); // the LFS sha256
    expect(new Uint8Array(readFileSync(link))).toEqual(WEIGHTS);
    expect(existsSync(join(repo, 'snapshots', COMMIT, 'tokenizer.json'))).toBe(false); // not read by a weight load
  });

  it('resumes a download that broke off midway with a Range request, without starting over', async () => {
    const half = Math.floor(WEIGHTS.byteLength / 2);
    hub.cutNextDownload('model.safetensors', half);
    await loadEverything({ repo: 'org/tiny', cache: nodeHubCache(freshDir()) });
    const cdn = hub.requests.filter((r) => r.path.startsWith('/cdn/') && r.range !== 'bytes=0-0');
    expect(cdn.map((r) => r.range)).toEqual([undefined, `bytes=${half}-${WEIGHTS.byteLength - 1}`]);
    const configBytes = (single.files['config.json'] as string).length;
    expect(hub.bytesServed).toBeLessThan(WEIGHTS.byteLength + configBytes + 16); // the first half was not sent twice
  });

  it('after a failed load, the next load resumes from the bytes kept on disk', async () => {
    const dir = freshDir();
    const cut = 12_345;
    hub.cutNextDownload('model.safetensors', cut, 2); // the automatic retry breaks off too, before any new byte
    const err = await loadEverything({ repo: 'org/tiny', cache: nodeHubCache(dir), retries: 0 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as Error).message).toMatch(new RegExp(`hf:org/tiny: the download of model.safetensors stopped at byte ${cut} of ${WEIGHTS.byteLength} \\(.*\\); load the model again to resume from byte ${cut}`));
    const partial = readFileSync(join(dir, 'models--org--tiny', 'blobs', (await sha256(WEIGHTS)) + '.incomplete'));
    expect(partial.byteLength).toBe(cut);
    hub.reset();
    await loadEverything({ repo: 'org/tiny', cache: nodeHubCache(dir), retries: 0 });
    expect(hub.requests.filter((r) => r.path.startsWith('/cdn/') && r.range !== 'bytes=0-0').map((r) => r.range)).toEqual([`bytes=${cut}-${WEIGHTS.byteLength - 1}`]);
    expect(hub.requests.some((r) => r.path.includes('/tree/'))).toBe(false); // the listing came from the cache
  });

  it('caches a model from a mirror that does not say the commit (keyed by the branch name)', async () => {
    const cache = memoryCache();
    await loadEverything({ repo: 'org/mirror', cache });
    hub.reset();
    await loadEverything({ repo: 'org/mirror', cache });
    expect(hub.count).toBe(0);
  });

  it('loads a sharded checkpoint', async () => {
    const events: FileProgress[] = [];
    await loadEverything({ repo: 'org/sharded', cache: memoryCache(), onProgress: (e) => events.push(e) }, sharded);
    expect(events.filter((e) => e.done).map((e) => e.file).sort()).toEqual(
      ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json'],
    );
  });

  it('reads the tensor index from the headers without downloading the weights', async () => {
    const src = await openModel(await openHubFiles({ repo: 'org/tiny', endpoint: hub.url, cache: memoryCache() }));
    const index = await src.tensorIndex();
    expect(index.size).toBe(single.weights.size);
    expect(hub.bytesServed).toBeLessThan(WEIGHTS.byteLength / 4);
  });

  it('works without a cache, reading ranges from the network', async () => {
    await loadEverything({ repo: 'org/tiny', cache: null });
    expect(hub.requests.filter((r) => r.range && r.range !== 'bytes=0-0').length).toBeGreaterThan(2);
  });

  it('sends the access token of a gated repo, and says what to do without one', async () => {
    const without = await loadEverything({ repo: 'org/gated', cache: memoryCache() }).catch((e: Error) => e);
    expect(without).toBeInstanceOf(HubError);
    expect((without as Error).message).toBe(
      'hf:org/gated: the Hub needs you to sign in (HTTP 401); the model is gated or private: accept its license on the model page and give an access token (HF_TOKEN)',
    );
    const wrong = await loadEverything({ repo: 'org/gated', cache: memoryCache(), accessToken: 'hf_wrong' }).catch((e: Error) => e);
    expect((wrong as Error).message).toMatch(/hf:org\/gated: the Hub refused the access token \(HTTP 401\)/);
    hub.reset();
    await loadEverything({ repo: 'org/gated', cache: memoryCache(), accessToken: 'hf_secret' });
    expect(hub.requests.every((r) => r.path.startsWith('/cdn/') || r.auth === 'Bearer hf_secret')).toBe(true);
  });

  it('names a missing repo, a repo without config.json, an unreachable hub, and offline mode', async () => {
    const msg = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error) => e.message);
    expect(await msg(openHubFiles({ repo: 'org/nope', endpoint: hub.url, cache: null }))).toBe(
      `hf:org/nope: not found on ${hub.url} (HTTP 404); check the model id (org/name)`,
    );
    expect(await msg(openHubFiles({ repo: 'org/tiny', revision: 'v9', endpoint: hub.url, cache: null }))).toMatch(/not found on .* at revision "v9" \(HTTP 404\); check the model id \(org\/name\) and revision/);
    expect(await msg(openHubFiles({ repo: 'org/no-config', endpoint: hub.url, cache: null }))).toMatch(/hf:org\/no-config\/config.json: file is missing: the repository has no config.json/);
    expect(await msg(openHubFiles({ repo: 'org/tiny', endpoint: 'http://127.0.0.1:9', cache: null }))).toMatch(/hf:org\/tiny: could not reach http:\/\/127.0.0.1:9 \(fetch failed.*\); check your connection or the HF_ENDPOINT address/);
    expect(await msg(openHubFiles({ repo: 'org/tiny', endpoint: hub.url, cache: memoryCache(), offline: true }))).toMatch(/offline mode is on \(HF_HUB_OFFLINE\)/);
    expect(await msg(openHubFiles({ repo: 'not a repo', endpoint: hub.url, cache: null }))).toMatch(/"not a repo" is not a Hugging Face model id; write it as org\/name/);
  });

  it('takes hf:org/name[@revision] with HF_ENDPOINT, HF_HUB_CACHE and HF_HUB_OFFLINE from the environment', async () => {
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: freshDir() };
    const src = await openModelSpec(`hf:org/tiny@${COMMIT}`, { env });
    expect(src.name).toBe('org/tiny');
    await src.prepareWeights();
    expect(statSync(join(env.HF_HUB_CACHE, 'models--org--tiny', 'snapshots', COMMIT, 'model.safetensors')).size).toBe(WEIGHTS.byteLength);
    hub.reset();
    const offline = await openModelSpec('hf:org/tiny@' + COMMIT, { env: { ...env, HF_HUB_OFFLINE: '1' } });
    await offline.prepareWeights();
    expect(hub.count).toBe(0);
  });
});

async function sha256(b: Uint8Array): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(b).digest('hex');
}
