// The GPU quantizer (shaders/quantize.wgsl) against the CPU packer, bit for bit: every file storage
// (f32, f16, bf16) into every base format (f32, f16, bf16, int8, nf4), on awkward sizes (a partial
// word, a partial block, one element past a block), weight-like values with zero blocks and
// outliers, every bit pattern a 16-bit file can hold (subnormals included), int8 and NF4 ties, and a
// chunk written at an offset into a larger weight.
import { afterAll, describe, expect, it } from 'vitest';
import { GpuQuantizer, nf4Thresholds, QUANTIZE_CHUNK_ALIGN } from '../../src/engine/kernels/quantize';
import { BufferUsage } from '../../src/engine/flags';
import { readBuffers } from '../../src/engine/readback';
import { f32ArrayToBf16, f32ArrayToF16 } from '../../src/core/half';
import { quantizeRaw, RAW_BYTES, type RawFloat } from '../../src/reference/ops/quantize';
import { ELEMENTS_PER_WORD, type WeightFormat } from '../../src/reference/quant/packed';
import { NF4_CODEBOOK, nf4Code } from '../../src/reference/quant/nf4';
import { rand, testEngine } from './gpu';

const engine = await testEngine();
const RAWS: RawFloat[] = ['f32', 'f16', 'bf16'];
const FORMATS: WeightFormat[] = ['f32', 'f16', 'bf16', 'int8', 'nf4'];
const SIZES = [1, 7, 63, 64, 65, 200, 4096 + 13];

/** Raw file bytes of `x` in `raw` storage (16-bit: rounded to nearest even, as a checkpoint would be). */
function rawBytes(x: Float32Array, raw: RawFloat): Uint8Array {
  if (raw === 'f32') return new Uint8Array(x.buffer.slice(0));
  const h = raw === 'f16' ? f32ArrayToF16(x) : f32ArrayToBf16(x);
  return new Uint8Array(h.buffer);
}

/** Weight-like values: std ~0.02 with outliers, an all-zero block, -0, a tiny block. */
function weights(n: number, seed: number): Float32Array {
  const x = rand(n, seed, 0.05);
  for (let i = 0; i < n; i += 37) x[i] *= 40;
  for (let i = 64; i < Math.min(n, 128); i++) x[i] = i % 3 ? 0 : -0;
  for (let i = 128; i < Math.min(n, 192); i++) x[i] *= 1e-30;
  return x;
}

/** Random 16-bit patterns: every finite f16 or bf16, subnormals included (exponent below bf16's top two). */
function randomHalfBits(n: number, seed: number, raw: 'f16' | 'bf16'): Uint8Array {
  const h = new Uint16Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    let v = s >>> 16;
    if (raw === 'f16' && ((v >>> 10) & 0x1f) === 0x1f) v &= ~0x4000; // no Inf/NaN
    if (raw === 'bf16' && ((v >>> 7) & 0xff) > 0xfb) v &= ~0x0400; // absmax below 2^126
    h[i] = v;
  }
  return new Uint8Array(h.buffer);
}

interface GpuOut { words: Uint32Array; absmax: Uint32Array | null; flags: number }

async function quantizeOnGpu(q: GpuQuantizer, raw: RawFloat, bytes: Uint8Array, format: WeightFormat, at = 0): Promise<GpuOut> {
  const e = engine!;
  const { device } = e.gpu;
  const n = bytes.byteLength / RAW_BYTES[raw];
  const make = (size: number, label: string) => device.createBuffer({ label, size: Math.max(4, Math.ceil(size / 4) * 4), usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  const src = make(bytes.byteLength, 'src');
  const padded = new Uint8Array(src.size);
  padded.set(bytes);
  device.queue.writeBuffer(src, 0, padded);
  // The chunk lands `at` elements into its weight: its slices of words and absmax are bound at offsets.
  const wordsAt = (4 * at) / ELEMENTS_PER_WORD[format];
  const nWords = Math.ceil(n / ELEMENTS_PER_WORD[format]);
  const words = make(wordsAt + 4 * nWords, 'words');
  const blocks = Math.ceil(n / 64);
  const absmax = make((4 * at) / 64 + 4 * blocks, 'absmax');
  const flags = make(16, 'flags');
  device.queue.writeBuffer(flags, 0, new Uint32Array(4));
  const quantized = format === 'nf4' || format === 'int8';
  await q.submit({
    raw, format, n, src, words: { buffer: words, offset: wordsAt },
    ...(quantized ? { absmax: { buffer: absmax, offset: (4 * at) / 64 } } : {}),
    ...(format === 'nf4' ? { flags, slot: 2 } : {}),
  });
  const [w, a, f] = await readBuffers(device, [
    { buffer: words, offset: wordsAt, size: 4 * nWords },
    { buffer: absmax, offset: (4 * at) / 64, size: 4 * blocks },
    { buffer: flags },
  ]);
  for (const b of [src, words, absmax, flags]) b.destroy();
  return { words: new Uint32Array(w), absmax: quantized ? new Uint32Array(a) : null, flags: new Uint32Array(f)[2] };
}

function expectSame(got: GpuOut, raw: RawFloat, bytes: Uint8Array, format: WeightFormat): void {
  const want = quantizeRaw(raw, bytes, format);
  expect(got.flags).toBe(0);
  expect(got.words).toEqual(want.words);
  if (want.absmax) expect(got.absmax).toEqual(new Uint32Array(want.absmax.buffer));
}

describe('NF4 thresholds (the kernel counts them instead of measuring 16 distances)', () => {
  it('T_j is the first f32 whose reference code is j + 1; the f32 just below it has code j', () => {
    const t = nf4Thresholds();
    expect(t).toHaveLength(15);
    const below = (x: number) => {
      const f = new Float32Array([x]);
      const u = new Int32Array(f.buffer);
      u[0] += x > 0 ? -1 : 1; // one ulp toward -infinity (no threshold is 0)
      return f[0];
    };
    t.forEach((x, j) => {
      expect(x).toBeGreaterThan(NF4_CODEBOOK[j]);
      expect(x).toBeLessThanOrEqual(NF4_CODEBOOK[j + 1]);
      expect(nf4Code(x)).toBe(j + 1);
      expect(nf4Code(below(x))).toBe(j);
    });
  });
});

describe.skipIf(!engine)('GPU quantizer == CPU packer, bit for bit', () => {
  const q = GpuQuantizer.create(engine!);
  afterAll(() => {
    q.destroy();
    engine!.pool.destroyAll();
  });

  for (const raw of RAWS) {
    for (const format of FORMATS) {
      it(`${raw} -> ${format}, weight-like values, sizes ${SIZES.join(', ')}`, async () => {
        for (const n of SIZES) {
          const bytes = rawBytes(weights(n, n), raw);
          expectSame(await quantizeOnGpu(q, raw, bytes, format), raw, bytes, format);
        }
      });
    }
  }

  for (const raw of ['f16', 'bf16'] as const) {
    for (const format of FORMATS) {
      it(`${raw} -> ${format}, random bit patterns (subnormals, huge ranges within a block)`, async () => {
        const bytes = randomHalfBits(3 * 64 * 8 + 5, 11, raw);
        expectSame(await quantizeOnGpu(q, raw, bytes, format), raw, bytes, format);
      });
    }
  }

  it('int8 ties (127 x / absmax a half-integer) round away from zero', async () => {
    // absmax 127 * 2^k: every x = (j + 1/2) 2^k has 127 x / absmax = j + 1/2 exactly.
    const x = new Float32Array(128);
    for (let b = 0; b < 2; b++) {
      const scale = 2 ** (b - 2);
      x[64 * b] = 127 * scale;
      for (let i = 1; i < 64; i++) x[64 * b + i] = (i % 2 ? -1 : 1) * (((2 * i) % 127) + 0.5) * scale;
    }
    const bytes = rawBytes(x, 'f32');
    expectSame(await quantizeOnGpu(q, 'f32', bytes, 'int8'), 'f32', bytes, 'int8');
  });

  it('nf4 scaled values on and next to the midpoints of the codebook and the thresholds', async () => {
    const x = new Float32Array(64 * 4);
    for (let b = 0; b < 4; b++) {
      x[64 * b] = b === 3 ? -1 : 1; // absmax 1: the scaled value is the value itself
      for (let i = 1; i < 64; i++) {
        const j = i % 15;
        const mid = Math.fround((NF4_CODEBOOK[j] + NF4_CODEBOOK[j + 1]) / 2);
        const ulp = Math.abs(mid) * 2 ** -23 || 2 ** -149;
        x[64 * b + i] = Math.fround(mid + (b - 1) * ulp);
      }
    }
    // and the thresholds themselves with their neighbours below and above (a block of absmax 1)
    const t = new Float32Array(64);
    t[0] = 1;
    const u = new Int32Array(t.buffer);
    nf4Thresholds().forEach((v, j) => {
      t[1 + 3 * j] = v;
      t[2 + 3 * j] = v;
      t[3 + 3 * j] = v;
      u[2 + 3 * j] += v > 0 ? -1 : 1;
      u[3 + 3 * j] += v > 0 ? 1 : -1;
    });
    const all = new Float32Array([...x, ...t]);
    const bytes = rawBytes(all, 'f32');
    expectSame(await quantizeOnGpu(q, 'f32', bytes, 'nf4'), 'f32', bytes, 'nf4');
  });

  it('writes a chunk at its offset in a larger weight (bindings at 4096-element offsets)', async () => {
    for (const format of FORMATS) {
      const bytes = rawBytes(weights(1000, 5), 'bf16');
      expectSame(await quantizeOnGpu(q, 'bf16', bytes, format, 2 * QUANTIZE_CHUNK_ALIGN), 'bf16', bytes, format);
    }
  });

  it('counts NF4 blocks it cannot quantize exactly (a subnormal absmax, or one above 2^126)', async () => {
    const tiny = new Float32Array(64).fill(1e-39); // subnormal f32
    expect((await quantizeOnGpu(q, 'f32', rawBytes(tiny, 'f32'), 'nf4')).flags).toBe(1);
    const huge = rand(128, 3, 1);
    huge[70] = 2 ** 127;
    expect((await quantizeOnGpu(q, 'f32', rawBytes(huge, 'f32'), 'nf4')).flags).toBe(1);
  });
});
