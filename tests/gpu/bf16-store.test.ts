/**
 * The bf16 activation kernels (store, load, round) against the CPU rounding: bit for bit, on values
 * that exercise round-to-nearest-even (ties both ways, carries into the exponent, overflow to Inf),
 * NaN, infinities, signed zeros and subnormals, with odd and even counts and 2D grids.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { f32ToBf16Bits } from '../../src/core/half';
import type { Engine } from '../../src/engine/context';
import { bf16PackedBytes, prepareBf16Load, prepareBf16Round, prepareBf16Store } from '../../src/engine/kernels/bf16-store';
import { readUint32 } from '../../src/engine/readback';
import { roundToBf16 } from '../../src/reference/ops/bf16-store';
import { rand, run, testEngine, upload } from './gpu';

const engine = await testEngine();

/** The same engine with a tiny maxComputeWorkgroupsPerDimension, to exercise the 2D grids cheaply. */
function smallGridEngine(e: Engine, max: number): Engine {
  return { ...e, gpu: { ...e.gpu, limits: { ...e.gpu.limits, maxComputeWorkgroupsPerDimension: max } } };
}

/** Bit patterns where rounding is easy to get wrong, then random values of several magnitudes. */
function testValues(n: number): Float32Array {
  const bits = [
    0x3f808000, // 1 + 2^-8: a tie, even below -> down
    0x3f818000, // a tie, odd below -> up
    0x3f807fff, 0x3f808001, // just below / above a tie
    0x3fffffff, // carries into the exponent
    0x7f7fffff, 0xff7fffff, // the largest finite values round to +-Inf
    0x7f800000, 0xff800000, // +-Inf
    0x7fc00000, 0x7f800001, // NaNs (quiet, signalling): stay NaN
    0x00000000, 0x80000000, // signed zeros
    0x00000001, 0x00008000, 0x00018000, 0x007fffff, 0x80400000, // subnormals, ties among them
  ];
  const out = new Float32Array(n);
  new Uint32Array(out.buffer).set(bits.slice(0, n));
  const r = rand(n, 7);
  for (let i = bits.length; i < n; i++) out[i] = r[i] * 10 ** ((i % 9) - 4);
  return out;
}

const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe.skipIf(!engine)('bf16 activation kernels vs the CPU rounding', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  for (const n of [1, 2, 19, 1001]) {
    it(`store, load and round on n = ${n}`, async () => {
      const values = testValues(n);
      const rounded = values.slice();
      roundToBf16(rounded);
      const wantPacked = new Uint16Array(2 * Math.ceil(n / 2)); // the padding half stays 0
      for (let i = 0; i < n; i++) wantPacked[i] = f32ToBf16Bits(values[i]);
      const wantWords = Array.from(new Uint32Array(wantPacked.buffer));

      // store: the packed words; the working values stay as they were
      const work = await upload(e, values, 'values');
      const packed = await upload(e, new Uint32Array(bf16PackedBytes(n) / 4).fill(0xdeadbeef), 'packed');
      run(e, await prepareBf16Store(e, { values: work, packed, n }));
      expect(Array.from(await readUint32(e.gpu.device, packed))).toEqual(wantWords);
      expect(Array.from(await readUint32(e.gpu.device, work, n))).toEqual(bitsOf(values));

      // load: exactly the rounded values, into a buffer holding something else; nothing past n is written
      const back = await upload(e, new Float32Array(n + 1).fill(5), 'back');
      run(e, await prepareBf16Load(e, { values: back, packed, n }));
      const got = await readUint32(e.gpu.device, back);
      expect(Array.from(got.subarray(0, n))).toEqual(bitsOf(rounded));
      expect(new Float32Array(got.buffer)[n]).toBe(5);

      // round in place, on a grid cut into rows of 2 workgroups
      const again = await upload(e, values, 'again');
      run(e, await prepareBf16Round(smallGridEngine(e, 2), { values: again, n }));
      expect(Array.from(await readUint32(e.gpu.device, again, n))).toEqual(bitsOf(rounded));
    });
  }

  it('rejects a packed buffer too small for n values', async () => {
    const work = await upload(e, new Float32Array(8), 'values');
    const packed = await upload(e, new Uint32Array(3), 'packed');
    await expect(prepareBf16Store(e, { values: work, packed, n: 8 })).rejects.toThrow(/packed/);
  });
});
