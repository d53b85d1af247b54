// Base weights streamed from a checkpoint through the GPU quantizer (src/model/graph/weight-stream.ts):
// the buffers hold, bit for bit, what the CPU packer writes; the file is read in chunks (the largest
// read is one chunk, not the file, and never through the f32 loader); chunks that straddle nothing
// (NF4 double quantization over a chunked tensor), dtypes the kernel does not read, and NF4 blocks
// the GPU flags all end as the CPU packer's words.
import { afterAll, describe, expect, it } from 'vitest';
import { refBuffer } from '../../src/engine/kernels/common';
import { BufferUsage } from '../../src/engine/flags';
import { readBuffers } from '../../src/engine/readback';
import { GpuQuantizer } from '../../src/engine/kernels/quantize';
import { f32ArrayToBf16 } from '../../src/core/half';
import { fileModelFiles } from '../../src/io/model-source/local-files';
import { nonFiniteRaw, openModel } from '../../src/io/model-source/model';
import type { ModelFiles, TensorLoader } from '../../src/io/model-source/types';
import type { Dtype } from '../../src/io/safetensors/dtypes';
import { createDecoderBase } from '../../src/model/generate/base';
import type { BaseWeights } from '../../src/model/graph/base-weights';
import { DEFAULT_CHUNK_ELEMENTS, WeightStream, type WeightTarget } from '../../src/model/graph/weight-stream';
import { packWeight, type WeightFormat } from '../../src/reference/quant/packed';
import { weightBufferBytes } from '../../src/engine/kernels/weights';
import { recording } from '../io/helpers';
import { qwenScaledConfig, randomBf16Safetensors } from '../helpers/qwen-shaped';
import { rand, testEngine } from '../gpu/gpu';

const engine = await testEngine();

/** An in-memory model folder whose weight reads are recorded. */
function memoryModel(hf: Record<string, unknown>): { files: ModelFiles; reads: ReturnType<typeof recording>[]; fileBytes: number } {
  const st = randomBf16Safetensors(hf, 7);
  const inner = fileModelFiles([new File([JSON.stringify(hf)], 'config.json'), new File([st], 'model.safetensors')]);
  const reads: ReturnType<typeof recording>[] = [];
  const files: ModelFiles = {
    ...inner,
    async bytes(file, purpose) {
      const r = recording(await inner.bytes(file, purpose));
      reads.push(r);
      return r;
    },
  };
  return { files, reads, fileBytes: st.byteLength };
}

/** Every buffer of the base weights, in a fixed order, read back. */
async function snapshot(b: BaseWeights): Promise<Uint8Array[]> {
  const bufs: GPUBuffer[] = [];
  for (const s of b.embed) bufs.push(s.buffer);
  for (const l of b.layers) {
    for (const { weight: w } of Object.values(l.linears).flatMap((s) => s.shards)) for (const x of [w.words, w.absmax, w.qabsmax, w.dq]) if (x) bufs.push(refBuffer(x));
    bufs.push(l.inputNorm, l.mlpNorm, ...Object.values(l.bias));
  }
  for (const w of b.headChunks) if (!('buffer' in w.words)) for (const x of [w.words, w.absmax, w.qabsmax, w.dq]) if (x) bufs.push(refBuffer(x));
  bufs.push(b.finalNorm);
  return readStorage(bufs);
}

/**
 * Weight buffers' bytes: weights have no COPY_SRC, so the quantizer's f32 -> f32 conversion (a copy
 * of u32 words) moves each into a readable buffer first; then one readback of them all.
 */
async function readStorage(buffers: GPUBuffer[]): Promise<Uint8Array[]> {
  const { device } = engine!.gpu;
  const q = GpuQuantizer.create(engine!);
  const copies: GPUBuffer[] = [];
  for (const buffer of buffers) {
    const copy = device.createBuffer({ size: buffer.size, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC });
    await q.submit({ raw: 'f32', format: 'f32', n: buffer.size / 4, src: buffer, words: copy });
    copies.push(copy);
  }
  const bytes = await readBuffers(device, copies.map((buffer) => ({ buffer })));
  q.destroy();
  for (const c of copies) c.destroy();
  return bytes.map((b) => new Uint8Array(b));
}

/** The f32 loader alone: createBaseWeights then packs every tensor on the CPU (the reference path). */
const cpuOnly = (load: TensorLoader): TensorLoader => (name, range) => load(name, range);

describe('the raw reader refuses non-finite values without converting them', () => {
  it('finds NaN and infinity in f32, f16 and bf16 bits; leaves other dtypes to the f32 check', () => {
    expect(nonFiniteRaw('BF16', new Uint8Array(Uint16Array.of(0x3f80, 0x7f80, 0xffc1, 0x0001).buffer))).toEqual({ count: 2, first: 1 });
    expect(nonFiniteRaw('F16', new Uint8Array(Uint16Array.of(0x3c00, 0x7bff, 0xfc00).buffer))).toEqual({ count: 1, first: 2 });
    expect(nonFiniteRaw('F32', new Uint8Array(Float32Array.of(1, 3.4e38, NaN).buffer))).toEqual({ count: 1, first: 2 });
    expect(nonFiniteRaw('BF16', new Uint8Array(Uint16Array.of(0x7f7f, 0x0080).buffer))).toBeNull(); // the largest finite, a normal
    expect(nonFiniteRaw('F64', new Uint8Array(8))).toBeUndefined();
  });
});

describe.skipIf(!engine)('weights streamed through the GPU quantizer', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  // The last two (hidden 128) cut the MLP linears into row shards, the embedding into vocabulary shards.
  const cases: [WeightFormat, boolean, number?][] = [['nf4', false], ['nf4', true], ['int8', false], ['f16', false], ['f32', false], ['nf4', true, 8192], ['f16', false, 32768]];
  for (const [format, doubleQuant, maxBindingBytes] of cases) {
    it(`a bf16 checkpoint (Qwen2.5 layout, untied head) to ${format}${doubleQuant ? '+dq' : ''}${maxBindingBytes ? ` in pieces of ${maxBindingBytes} bytes` : ''}: the CPU packer's bytes`, async () => {
      const hf = { ...qwenScaledConfig({ hidden: maxBindingBytes ? 128 : 64, layers: 2, vocab: maxBindingBytes ? 256 : 1000, intermediate: 200 }), tie_word_embeddings: false };
      const model = await openModel(memoryModel(hf).files);
      const opts = { format, doubleQuant, vocabChunk: maxBindingBytes ? 64 : 384, ...(maxBindingBytes ? { maxBindingBytes } : {}) };
      const gpu = await createDecoderBase(e, model.config, { ...opts, load: model.loader() });
      const cpu = await createDecoderBase(e, model.config, { ...opts, load: cpuOnly(model.loader()) });
      const [a, b] = [await snapshot(gpu), await snapshot(cpu)];
      expect(a.length).toBe(b.length);
      for (let i = 0; i < a.length; i++) expect(a[i]).toEqual(b[i]);
      expect(a.every((x) => x.some((v) => v !== 0))).toBe(true); // every buffer was written
      if (maxBindingBytes) expect(gpu.layers[0].linears.gate_proj.shards.length).toBeGreaterThan(1);
      e.pool.destroyAll();
    });
  }

  it('reads a table larger than a chunk one chunk at a time, raw, never the whole file or an f32 copy', async () => {
    const hf = qwenScaledConfig({ hidden: 128, layers: 1, vocab: 32768, intermediate: 256 }); // embedding 4M elements: two chunks
    const { files, reads, fileBytes } = memoryModel(hf);
    const model = await openModel(files);
    const load = model.loader();
    const f32Calls: string[] = [];
    const rawOnly: TensorLoader = (name, range) => {
      f32Calls.push(name);
      return load(name, range);
    };
    rawOnly.raw = load.raw;
    await createDecoderBase(e, model.config, { format: 'nf4', load: rawOnly });
    const maxRead = Math.max(...reads.map((r) => r.maxRead));
    expect(f32Calls.filter((n) => !n.includes('norm') && !n.includes('bias'))).toEqual([]); // only the small f32 vectors
    expect(maxRead).toBe(2 * DEFAULT_CHUNK_ELEMENTS); // one chunk of bf16 ...
    expect(maxRead).toBeLessThanOrEqual((2 * 32768 * 128) / 2); // ... half the table, not the table or the file
    expect(reads.reduce((s, r) => s + r.total, 0)).toBeLessThan(fileBytes * 1.01); // every byte read once (+ headers)
    e.pool.destroyAll();
  });

  /** A tensor's raw reader over bytes in memory, and a target of the weight's planned sizes. */
  function rawTensor(dtype: Dtype, bytes: Uint8Array, width: number) {
    return async (_name: string, r: { start: number; count: number }) => ({ dtype, bytes: bytes.slice(r.start * width, (r.start + r.count) * width) });
  }
  function target(format: WeightFormat, numel: number, doubleQuant: boolean): WeightTarget {
    const sizes = weightBufferBytes(format, 1, numel, { doubleQuant });
    const mk = (i: number) => e.gpu.device.createBuffer({ size: Math.max(4, Math.ceil(sizes[i] / 4) * 4), usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
    if (format === 'nf4' && doubleQuant) return { format, words: mk(0), qabsmax: mk(1), dq: mk(2) };
    return { format, words: mk(0), ...(format === 'nf4' || format === 'int8' ? { absmax: mk(1) } : {}) };
  }
  async function expectPacked(t: WeightTarget, x: Float32Array, doubleQuant: boolean): Promise<void> {
    const want = packWeight(x, t.format, { doubleQuant });
    const parts = [t.words, t.absmax, t.qabsmax, t.dq].filter((b) => b !== undefined).map((b) => refBuffer(b!));
    const got = await readBuffers(e.gpu.device, parts.map((buffer) => ({ buffer })));
    const wantParts = [want.words, want.absmax, want.doubleQuant?.qabsmax, want.doubleQuant?.dq].filter((w) => w !== undefined);
    got.forEach((g, i) => expect(new Uint8Array(g).subarray(0, wantParts[i]!.byteLength)).toEqual(new Uint8Array(wantParts[i]!.buffer)));
    for (const b of parts) b.destroy();
  }

  it('chunks of 4096 elements: NF4 (+ double quantization over the whole tensor), int8, f16 equal the packer on the whole tensor', async () => {
    const numel = 3 * 4096 + 1001; // 4 chunks, the last odd and partial
    const x = Float32Array.from(rand(numel, 3, 0.05), (v, i) => (i % 50 === 0 ? v * 30 : v));
    const bits = f32ArrayToBf16(x);
    const xb = Float32Array.from(new Float32Array(Uint32Array.from(bits, (h) => h << 16).buffer));
    for (const [format, dq] of [['nf4', false], ['nf4', true], ['int8', false], ['f16', false], ['bf16', false]] as const) {
      const s = new WeightStream(e, rawTensor('BF16', new Uint8Array(bits.buffer), 2), { chunkElements: 4096 });
      const t = target(format, numel, dq);
      await s.write(t, 'w', 0, numel);
      await s.finish();
      await expectPacked(t, xb, dq);
    }
  });

  it('an F64 tensor (no GPU decoder) and an NF4 block the GPU flags go through the CPU packer', async () => {
    const numel = 2 * 4096 + 64;
    const x = rand(numel, 9, 1);
    x.fill(1e-39, 4096, 4096 + 64); // one block with a subnormal absmax: flagged, the tensor redone on the CPU
    const f32 = new Uint8Array(x.buffer.slice(0));
    const s = new WeightStream(e, rawTensor('F32', f32, 4), { chunkElements: 4096 });
    const t = target('nf4', numel, false);
    await s.write(t, 'flagged', 0, numel);
    await s.finish();
    await expectPacked(t, x, false);

    const f64 = new Uint8Array(Float64Array.from(x).buffer);
    const s2 = new WeightStream(e, rawTensor('F64', f64, 8), { chunkElements: 4096 });
    const t2 = target('int8', numel, false);
    await s2.write(t2, 'f64', 0, numel);
    await s2.finish();
    await expectPacked(t2, x, false);
  });
});
