import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/config/model-config';
import { BadFileError } from '../../src/core/errors';
import { fileSource } from '../../src/io/node-file-source';
import { blobSource, bytesSource, type ByteSource } from '../../src/io/safetensors/byte-source';
import { openSafetensors } from '../../src/io/safetensors/reader';
import { urlSource } from '../../src/io/safetensors/url-source';
import { writeSafetensors } from '../../src/io/safetensors/writer';
import { goldenBytes, goldenPath, randomF32 } from './helpers';
import nf4Json from '../fixtures/golden/nf4/nf4.json';
import configJson from '../fixtures/golden/llama-tiny/config.json';

type Mode = 'ok' | 'ignore-range' | 'no-head' | 'short';

/** A tiny HTTP server for one in-memory file that honours Range (unless told not to) and counts bytes. */
class FileServer {
  served = 0;
  requests: string[] = [];
  mode: Mode = 'ok';
  private server!: Server;
  constructor(private body: Uint8Array) {}
  setBody(b: Uint8Array): void {
    this.body = b;
  }
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const range = req.headers.range;
      this.requests.push(`${req.method} ${range ?? ''}`);
      const size = this.body.byteLength;
      if (req.method === 'HEAD') {
        if (this.mode === 'no-head') return res.writeHead(405).end();
        return res.writeHead(200, { 'Content-Length': size, 'Accept-Ranges': 'bytes' }).end();
      }
      const m = /^bytes=(\d+)-(\d+)$/.exec(range ?? '');
      if (!m || this.mode === 'ignore-range') {
        this.served += size;
        return res.writeHead(200, { 'Content-Length': size }).end(Buffer.from(this.body));
      }
      const a = Number(m[1]);
      const b = Math.min(Number(m[2]), size - 1);
      const chunk = this.body.subarray(a, this.mode === 'short' ? b : b + 1);
      this.served += chunk.byteLength;
      res.writeHead(206, { 'Content-Length': chunk.byteLength, 'Content-Range': `bytes ${a}-${b}/${size}` }).end(Buffer.from(chunk));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/file.safetensors`;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

const GOLDEN_FILES = ['llama-tiny/model.safetensors', 'llama-tiny/adapter_model.safetensors', 'nf4/nf4.safetensors'];

/** Everything we can say about a file: names, infos, metadata and every tensor's bytes and f32s. */
async function snapshot(src: ByteSource): Promise<unknown> {
  const st = await openSafetensors(src);
  const out: Record<string, unknown> = { metadata: st.metadata };
  for (const n of st.names()) out[n] = { info: st.info(n), raw: Array.from(await st.readRaw(n)), f32: Array.from(await st.readF32(n)) };
  return out;
}

describe('golden files through every source', () => {
  const server = new FileServer(new Uint8Array(0));
  let url = '';
  beforeAll(async () => void (url = await server.start()));
  afterAll(() => server.close());

  for (const rel of GOLDEN_FILES) {
    it(`${rel}: bytes, blob, file and url sources agree`, async () => {
      const bytes = goldenBytes(rel);
      const ref = await snapshot(bytesSource(bytes, rel));
      expect(await snapshot(blobSource(new Blob([Buffer.from(bytes)])))).toEqual(ref);
      const fs = await fileSource(goldenPath(rel));
      try {
        expect(await snapshot(fs)).toEqual(ref);
      } finally {
        await fs.close();
      }
      server.setBody(bytes);
      expect(await snapshot(await urlSource(url))).toEqual(ref);
    });
  }

  it('model.safetensors matches config.json', async () => {
    const cfg = parseModelConfig(configJson);
    const st = await openSafetensors(bytesSource(goldenBytes('llama-tiny/model.safetensors')));
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(st.info('model.embed_tokens.weight').shape).toEqual([cfg.vocabSize, cfg.hiddenSize]);
    expect(st.info('model.layers.1.self_attn.k_proj.weight').shape).toEqual([cfg.numKvHeads * cfg.headDim, cfg.hiddenSize]);
    expect(st.info('model.layers.0.mlp.down_proj.weight').shape).toEqual([cfg.hiddenSize, cfg.intermediateSize]);
    // In file order: sorted by offset.
    const begins = [...st.tensors.values()].map((t) => t.begin);
    expect(begins).toEqual([...begins].sort((a, b) => a - b));
  });

  it('nf4.safetensors: the dequantized values are codebook[code] * absmax (reads U8 and F32 right)', async () => {
    const st = await openSafetensors(bytesSource(goldenBytes('nf4/nf4.safetensors')));
    for (const name of ['a', 'b', 'c']) {
      const packed = await st.readRaw(`${name}.packed`);
      const absmax = await st.readF32(`${name}.absmax`);
      const deq = await st.readF32(`${name}.dequant`);
      expect(st.info(`${name}.packed`).dtype).toBe('U8');
      for (let i = 0; i < deq.length; i++) {
        const code = i % 2 === 0 ? packed[i >> 1] >> 4 : packed[i >> 1] & 15;
        expect(deq[i]).toBeCloseTo(nf4Json.codebook[code] * absmax[Math.floor(i / nf4Json.blocksize)], 6);
      }
    }
  });
});

describe('urlSource', () => {
  // ~4 MB: 16 tensors of 256 KiB.
  const names = Array.from({ length: 16 }, (_, i) => `layer.${i}.weight`);
  const big = writeSafetensors(names.map((name, i) => ({ name, dtype: 'F32', shape: [256, 256], data: randomF32(65536, i) })));
  const server = new FileServer(big);
  let url = '';
  beforeAll(async () => void (url = await server.start()));
  afterAll(() => server.close());
  const reset = (mode: Mode, body: Uint8Array = big): void => {
    server.mode = mode;
    server.served = 0;
    server.requests = [];
    server.setBody(body);
  };

  it('reading one tensor fetches only the header and that tensor', async () => {
    reset('ok');
    const st = await openSafetensors(await urlSource(url));
    const headerBytes = 8 + Number(new DataView(big.buffer).getBigUint64(0, true));
    expect(server.served).toBe(headerBytes);
    const t = await st.readF32('layer.7.weight');
    expect(t).toEqual(randomF32(65536, 7));
    expect(server.served).toBe(headerBytes + 65536 * 4);
    expect(server.requests[0]).toBe('HEAD ');
    expect(server.requests.length).toBe(4); // HEAD, length prefix, header, tensor
  });

  it('falls back to a one-byte ranged GET when HEAD is refused', async () => {
    reset('no-head');
    const src = await urlSource(url);
    expect(src.size).toBe(big.byteLength);
    expect(server.requests.slice(0, 2)).toEqual(['HEAD ', 'GET bytes=0-0']);
    expect(Array.from(await src.read(100, 3))).toEqual(Array.from(big.subarray(100, 103)));
  });

  it('gives a clear error when the server ignores Range on a big file', async () => {
    const huge = new Uint8Array(20 * 1024 * 1024);
    huge.set(big);
    reset('ignore-range', huge);
    const src = await urlSource(url);
    const err = await src.read(0, 8).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadFileError);
    expect((err as Error).message).toMatch(/ignored the Range request \(HTTP 200 instead of 206\)/);
    expect((err as Error).message).toContain(url);
  });

  it('tolerates a server that ignores Range for a small file (reads it once)', async () => {
    const small = goldenBytes('nf4/nf4.safetensors');
    reset('ignore-range', small);
    const st = await openSafetensors(await urlSource(url));
    await st.readF32('a');
    await st.readF32('b');
    expect(server.served).toBe(small.byteLength);
  });

  it('refuses a response of the wrong length', async () => {
    reset('short');
    const src = await urlSource(url);
    await expect(src.read(10, 100)).rejects.toThrow(/asked for 100 bytes at offset 10 but got 99/);
  });

  it('reports HTTP errors and unreachable servers as BadFileError', async () => {
    const notFound = (async () => new Response('nope', { status: 404, statusText: 'Not Found' })) as typeof fetch;
    await expect(urlSource('https://example.invalid/x', { fetch: notFound })).rejects.toThrow(/HTTP 404 Not Found/);
    const down = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await expect(urlSource('https://example.invalid/x', { fetch: down })).rejects.toThrow(/could not be fetched \(fetch failed\)/);
  });

  it('sends the caller headers on every request', async () => {
    const seen: string[] = [];
    const spy = ((input: RequestInfo | URL, init?: RequestInit) => {
      seen.push((init?.headers as Record<string, string>).Authorization);
      return fetch(input, init);
    }) as typeof fetch;
    reset('ok');
    const st = await openSafetensors(await urlSource(url, { fetch: spy, headers: { Authorization: 'Bearer t' } }));
    await st.readRaw('layer.0.weight');
    expect(seen.length).toBe(4);
    expect(seen.every((h) => h === 'Bearer t')).toBe(true);
  });
});

describe('Node Buffers as sources', () => {
  it('reads f32 tensors from a Node Buffer (whose slice() is a view, not a copy)', async () => {
    // U8 tensors in this file leave later f32 tensors at offsets that are not multiples of 4.
    const file = readFileSync('tests/fixtures/golden/nf4/nf4.safetensors');
    const f = await openSafetensors(bytesSource(file));
    for (const name of f.names()) expect((await f.readF32(name)).length).toBe(f.info(name).shape.reduce((a, b) => a * b, 1));
  });
});
