import { bf16ArrayToF32, bf16BitsToF32, f16ArrayToF32, f16BitsToF32, f32ArrayToBf16, f32ArrayToF16, f32ToBf16Bits, f32ToF16Bits } from '../../src/core/half';
import { describe, expect, it } from 'vitest';
import { decodeToF32, f8e4m3ToF32, f8e5m2ToF32 } from '../../src/io/safetensors/decode';

const hex = (n: number): string => '0x' + n.toString(16).padStart(4, '0');

describe('f32 -> f16 (round to nearest even)', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff], // max half
    [65519.99, 0x7bff], // just below the rounding boundary to Inf
    [65520, 0x7c00], // the tie at max rounds to even -> Inf
    [1e6, 0x7c00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // tie between 0 and the smallest subnormal -> even (0)
    [2 ** -25 * 1.0000001, 0x0001], // just above the tie
    [3 * 2 ** -25, 0x0002], // tie between 1 and 2 subnormal units -> 2
    [5 * 2 ** -25, 0x0002], // tie between 2 and 3 -> 2
    [2 ** -26, 0x0000],
    [-(2 ** -24), 0x8001],
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -14 - 2 ** -25, 0x0400], // rounds up from subnormal into the smallest normal
    [1 + 2 ** -11, 0x3c00], // tie 1 vs 1+2^-10 -> even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // tie 1+2^-10 vs 1+2^-9 -> even
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // above the tie
    [0.1, 0x2e66],
    [-0.333251953125, 0xb555], // exact half
  ];
  for (const [x, bits] of cases) {
    it(`${x} -> ${hex(bits)}`, () => expect(hex(f32ToF16Bits(x))).toBe(hex(bits)));
  }
  it('NaN stays NaN (quiet), with sign', () => {
    const h = f32ToF16Bits(NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
    expect(Number.isNaN(f16BitsToF32(h))).toBe(true);
    // A NaN whose payload sits only in the low bits must not turn into Inf.
    const bits = new Uint32Array([0x7f800001]);
    expect(Number.isNaN(f16BitsToF32(f32ToF16Bits(new Float32Array(bits.buffer)[0])))).toBe(true);
  });
  it('every half round-trips through f32 exactly', () => {
    for (let h = 0; h < 65536; h++) {
      const x = f16BitsToF32(h);
      if (Number.isNaN(x)) continue;
      if (f32ToF16Bits(x) !== h) throw new Error(`half ${hex(h)} -> ${x} -> ${hex(f32ToF16Bits(x))}`);
    }
  });
  it('random f32s go to the nearest half, ties to even (checked against both neighbours)', () => {
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    let seed = 12345;
    for (let i = 0; i < 200_000; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      // Exponents around the half range (2^-27 .. 2^17), any mantissa and sign.
      bits[0] = (seed & 0x807fffff) | ((100 + (i % 45)) << 23);
      const x = f[0];
      const h = f32ToF16Bits(x);
      const y = f16BitsToF32(h);
      const mag = h & 0x7fff;
      for (const n of [mag - 1, mag + 1]) {
        if (n < 0 || n > 0x7c00) continue;
        const z = f16BitsToF32((h & 0x8000) | n);
        const dy = Math.abs(x - y);
        const dz = Math.abs(x - z);
        // Inf counts as 65536 (the next would-be half) for rounding purposes.
        const dzz = Number.isFinite(z) ? dz : Math.abs(Math.abs(x) - 65536);
        const dyy = Number.isFinite(y) ? dy : Math.abs(Math.abs(x) - 65536);
        if (dyy > dzz || (dyy === dzz && mag & 1)) throw new Error(`${x}: got ${hex(h)}, neighbour ${hex(n)} is nearer or even`);
      }
    }
  });
  it('array helpers agree with the scalar ones', () => {
    const src = new Float32Array([0, -0, 1.5, 65504, 1e-7, -1e9, NaN]);
    const h = f32ArrayToF16(src);
    expect(Array.from(h)).toEqual(Array.from(src, f32ToF16Bits));
    expect(Array.from(f16ArrayToF32(h)).map(String)).toEqual(Array.from(h, f16BitsToF32).map(String));
  });
});

describe('f16 -> f32', () => {
  it('decodes the special values', () => {
    expect(f16BitsToF32(0x0000)).toBe(0);
    expect(Object.is(f16BitsToF32(0x8000), -0)).toBe(true);
    expect(f16BitsToF32(0x0001)).toBe(2 ** -24);
    expect(f16BitsToF32(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16BitsToF32(0x7bff)).toBe(65504);
    expect(f16BitsToF32(0x7c00)).toBe(Infinity);
    expect(f16BitsToF32(0xfc00)).toBe(-Infinity);
    expect(f16BitsToF32(0x7e00)).toBeNaN();
  });
});

describe('f32 <-> bf16', () => {
  const f32bits = (u: number): number => new Float32Array(new Uint32Array([u]).buffer)[0];
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3f80],
    [Infinity, 0x7f80],
    [-Infinity, 0xff80],
    [f32bits(0x3f808000), 0x3f80], // tie -> even (down)
    [f32bits(0x3f818000), 0x3f82], // tie -> even (up)
    [f32bits(0x3f808001), 0x3f81], // above the tie
    [f32bits(0x7f7fffff), 0x7f80], // f32 max rounds to Inf
    [f32bits(0x7f7f7fff), 0x7f7f], // bf16 max stays
    [f32bits(0x00000001), 0x0000], // smallest f32 subnormal -> 0
    [f32bits(0x00018000), 0x0002], // subnormal tie -> even
    [f32bits(0x80010000), 0x8001], // negative subnormal, exact
  ];
  for (const [x, bits] of cases) {
    it(`${x} -> ${hex(bits)}`, () => expect(hex(f32ToBf16Bits(x))).toBe(hex(bits)));
  }
  it('NaN stays NaN even when only low payload bits are set', () => {
    for (const u of [0x7fc00000, 0x7f800001, 0xff800001]) {
      const b = f32ToBf16Bits(f32bits(u));
      expect(Number.isNaN(bf16BitsToF32(b))).toBe(true);
      expect(b >>> 15).toBe(u >>> 31);
    }
  });
  it('decoding is exact and array helpers agree', () => {
    const src = new Float32Array([1, -2.5, 3.140625, 1e-40, -0]);
    const b = f32ArrayToBf16(src);
    expect(Array.from(b)).toEqual(Array.from(src, f32ToBf16Bits));
    expect(Array.from(bf16ArrayToF32(b))).toEqual(Array.from(b, bf16BitsToF32));
    expect(bf16BitsToF32(0x4049)).toBe(3.140625);
  });
});

describe('float8 and integer decoding', () => {
  it('e4m3fn: max 448, NaN at 0x7f, subnormals', () => {
    expect(f8e4m3ToF32(0x7e)).toBe(448);
    expect(f8e4m3ToF32(0x7f)).toBeNaN();
    expect(f8e4m3ToF32(0x78)).toBe(256); // e=15 m=0 is a number in fn
    expect(f8e4m3ToF32(0x01)).toBe(2 ** -9);
    expect(f8e4m3ToF32(0x38)).toBe(1);
    expect(f8e4m3ToF32(0xb8)).toBe(-1);
  });
  it('e5m2 is the top byte of a half', () => {
    expect(f8e5m2ToF32(0x3c)).toBe(1);
    expect(f8e5m2ToF32(0x7b)).toBe(57344);
    expect(f8e5m2ToF32(0x7c)).toBe(Infinity);
    expect(f8e5m2ToF32(0x01)).toBe(2 ** -16);
  });
  it('decodes integers by value and BOOL as 0/1, from unaligned bytes too', () => {
    const buf = new Uint8Array(1 + 16);
    new DataView(buf.buffer).setBigInt64(1, -5n, true);
    new DataView(buf.buffer).setBigInt64(9, 2n ** 40n, true);
    expect(Array.from(decodeToF32('I64', buf.subarray(1)))).toEqual([-5, 2 ** 40]);
    expect(Array.from(decodeToF32('U8', new Uint8Array([0, 255])))).toEqual([0, 255]);
    expect(Array.from(decodeToF32('I8', new Uint8Array([0x80, 0x7f])))).toEqual([-128, 127]);
    expect(Array.from(decodeToF32('BOOL', new Uint8Array([0, 1, 2])))).toEqual([0, 1, 1]);
    expect(() => decodeToF32('F32', new Uint8Array(3))).toThrow(/whole number/);
  });
});
