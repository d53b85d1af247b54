import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryCache, openFilesModel, openHubModel, openModel, openUrlModel, summarizeModel, type ModelSource } from '../../src/io/model-source';
import { dirModelFiles } from '../../src/io/model-source/node';
import { forward } from '../../src/reference';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { asFiles, tinyHfModel, writeModelDir, type TinyHfModel } from './model-fixture';

const tmp = mkdtempSync(join(tmpdir(), 'model-sources-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const VARIANTS: [string, TinyHfModel][] = [
  ['Llama, one file', tinyHfModel()],
  ['Llama 3 RoPE, 3 shards', tinyHfModel({ shards: 3, llama3Rope: true, seed: 5 })],
  ['Qwen2 (biases, tied), 2 shards', tinyHfModel({ qwen: true, shards: 2, seed: 7 })],
];

/** A static file server for the URL-base source (the bundled demo's path), with a single-page-app fallback. */
async function staticServer(files: Record<string, Record<string, Uint8Array | string>>): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const [, dir, name] = (req.url ?? '').split('/');
    const body = files[dir]?.[name];
    // Like Vite's dev server: unknown paths get the app's index.html, not a 404.
    if (body === undefined) return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><div id="root"></div>');
    const bytes = Buffer.from(typeof body === 'string' ? new TextEncoder().encode(body) : body);
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (!m) return void res.writeHead(200, { 'Content-Length': bytes.byteLength }).end(req.method === 'HEAD' ? undefined : bytes);
    const [a, b] = [Number(m[1]), Math.min(Number(m[2]), bytes.byteLength - 1)];
    res.writeHead(206, { 'Content-Range': `bytes ${a}-${b}/${bytes.byteLength}`, 'Content-Length': b - a + 1 }).end(bytes.subarray(a, b + 1));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

let hub: HubServer;
let web: { url: string; close(): Promise<void> };
beforeAll(async () => {
  hub = await startHubServer(Object.fromEntries(VARIANTS.map(([, m], i) => [`org/tiny-${i}`, { files: m.files }])));
  web = await staticServer(Object.fromEntries(VARIANTS.map(([, m], i) => [`demo-${i}`, m.files])));
});
afterAll(async () => {
  await hub.close();
  await web.close();
});

/** Loads every tensor in the order the GPU graph asks for them and checks it bit for bit. */
async function loadAll(src: ModelSource, m: TinyHfModel): Promise<Map<string, Float32Array>> {
  const load = src.loader();
  const got = new Map<string, Float32Array>();
  for (const name of m.weights.keys()) got.set(name, await load(name));
  for (const [name, want] of m.weights) expect(got.get(name), name).toEqual(want);
  // A range reads only those elements (rows of the embedding table), equal to the same slice of the whole.
  const table = m.weights.get('model.embed_tokens.weight')!;
  const C = m.config.hiddenSize;
  expect(await load('model.embed_tokens.weight', { start: 5 * C, count: 3 * C })).toEqual(table.subarray(5 * C, 8 * C));
  await expect(load('model.embed_tokens.weight', { start: table.length - C, count: 2 * C })).rejects.toThrow(/are outside tensor "model\.embed_tokens\.weight"/);
  return got;
}

const B = 2;
const T = 6;
const tokens = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + 3) % 49);
const targets = Int32Array.from({ length: B * T }, (_, i) => (i % 5 === 0 ? -100 : (i * 11 + 1) % 49));

describe.each(VARIANTS.map(([label, m], i) => ({ label, m, i })))('$label', ({ m, i }) => {
  // The golden path: the CPU reference on the weights the fixture wrote (decoded independently).
  const expected = forward({ config: m.config, weights: m.weights }, new Map(), tokens, targets, B, T);
  const sources: [string, () => Promise<ModelSource>][] = [
    ['a folder', async () => openModel(await dirModelFiles(writeModelDir(join(tmp, `dir-${i}`), m.files)))],
    ['File objects', () => openFilesModel(asFiles(m.files, `folder-${i}`))],
    ['the hub stand-in', () => openHubModel({ repo: `org/tiny-${i}`, endpoint: hub.url, cache: memoryCache() })],
    ['a URL base', () => openUrlModel(`${web.url}/demo-${i}/`)],
  ];
  it.each(sources)('loads from %s and gives the reference logits', async (_, open) => {
    const src = await open();
    expect(src.config).toEqual(m.config);
    const index = await src.tensorIndex();
    expect(new Map([...index].map(([k, t]) => [k, t.dtype]))).toEqual(m.dtypes);
    const weights = await loadAll(src, m);
    const got = forward({ config: src.config, weights }, new Map(), tokens, targets, B, T);
    expect(got.logits).toEqual(expected.logits);
    expect(got.loss).toBe(expected.loss);
    await src.close();
  });
});

describe('the summary inspect prints', () => {
  it('counts parameters and dtypes from the headers and reads the tokenizer', async () => {
    const m = tinyHfModel({ shards: 3, llama3Rope: true });
    const s = await summarizeModel(await openFilesModel(asFiles(m.files)));
    const params = [...m.weights.values()].reduce((a, w) => a + w.length, 0);
    expect(s).toMatchObject({
      architecture: 'LlamaForCausalLM', model_type: 'llama', parameters: params, parameters_from_config: params, tensors: m.weights.size,
      sizes: { vocab_size: 67, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8 },
      rope: { theta: 500000, scaling: { type: 'llama3', factor: 32 } }, torch_dtype: 'bfloat16', warnings: [],
      tokenizer: { type: 'BPE', vocab_size: 49, special_tokens: { bos: { id: 1, content: '<s>' }, eos: { id: 2, content: '</s>' } }, chat_template: false },
    });
    expect(Object.keys(s.dtypes).sort()).toEqual(['BF16', 'F16', 'F32']);
    expect(Object.values(s.dtypes).reduce((a, d) => a + d.parameters, 0)).toBe(params);
    expect(s.weight_files.map((f) => f.file)).toEqual(['model-00001-of-00003.safetensors', 'model-00002-of-00003.safetensors', 'model-00003-of-00003.safetensors']);
  });

  it('ignores files in sub-folders of a picked folder and names the folder', async () => {
    const m = tinyHfModel();
    const files = asFiles(m.files, 'SmolThing');
    const extra = new File(['not a model'], 'model.safetensors');
    Object.defineProperty(extra, 'webkitRelativePath', { value: 'SmolThing/original/model.safetensors' });
    const src = await openFilesModel([...files, extra]);
    expect(src.name).toBe('SmolThing');
    await loadAll(src, m);
  });
});
