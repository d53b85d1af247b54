import { describe, expect, it } from 'vitest';
import { dequantizeInt8, int8ErrorBound, quantizeInt8, INT8_BLOCK } from '../../src/reference/quant/int8';
import { halfErrorBound, packHalf, unpackHalf } from '../../src/reference/quant/f16';
import { packWeight, unpackWeight } from '../../src/reference/quant/packed';
import { packBytes, unpackBytes, packHalves, unpackHalves } from '../../src/reference/quant/pack';

function values(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = scale * (s / 2 ** 32 - 0.5) * (i % 7 === 0 ? 10 : 1); // some outliers per block
  }
  return out;
}

describe('int8 blockwise', () => {
  it('round trip within half a step of each block', () => {
    const x = values(64 * 5 + 3, 1, 0.3);
    const t = quantizeInt8(x);
    expect(t.absmax.length).toBe(6);
    const y = dequantizeInt8(t);
    for (let i = 0; i < x.length; i++) {
      expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(int8ErrorBound(t.absmax[Math.floor(i / INT8_BLOCK)]));
    }
    // the block's largest element is exact up to rounding: +-127
    expect(Math.max(...t.q.subarray(0, 64).map(Math.abs))).toBe(127);
  });

  it('is symmetric, maps zero blocks to zero, and packs four per word little-endian', () => {
    const x = Float32Array.of(1, -1, 0.5, -0.5, 0.25);
    const t = quantizeInt8(x);
    expect([...t.q]).toEqual([127, -127, 64, -64, 32]); // 63.5 rounds away from zero
    const p = packWeight(x, 'int8');
    expect(p.words.length).toBe(2);
    expect(p.words[0]).toBe((127 | (0x81 << 8) | (64 << 16) | (0xc0 << 24)) >>> 0);
    expect(p.words[1]).toBe(32);
    expect(unpackWeight(p)).toEqual(dequantizeInt8(t));
    const z = quantizeInt8(new Float32Array(10));
    expect(dequantizeInt8(z).every((v) => v === 0)).toBe(true);
  });
});

describe('16-bit weights', () => {
  for (const kind of ['f16', 'bf16'] as const) {
    it(`${kind}: round trip within half an ulp; element 2j in the low half`, () => {
      const x = values(101, 2, 4);
      const words = packHalf(x, kind);
      expect(words.length).toBe(51);
      const y = unpackHalf(words, x.length, kind);
      for (let i = 0; i < x.length; i++) expect(Math.abs(y[i] - x[i])).toBeLessThanOrEqual(halfErrorBound(x[i], kind));
      const one = packHalf(Float32Array.of(1, 2), kind);
      const bits = kind === 'f16' ? [0x3c00, 0x4000] : [0x3f80, 0x4000];
      expect(one[0]).toBe((bits[0] | (bits[1] << 16)) >>> 0);
      expect(unpackWeight(packWeight(x, kind))).toEqual(y);
    });
  }
});

describe('byte and half packing', () => {
  it('round-trips and pads with zeros', () => {
    const b = Uint8Array.of(1, 2, 3, 4, 5);
    expect([...packBytes(b)]).toEqual([0x04030201, 5]);
    expect(unpackBytes(packBytes(b), 5)).toEqual(b);
    const h = Uint16Array.of(0x1111, 0x2222, 0x3333);
    expect([...packHalves(h)]).toEqual([0x22221111, 0x3333]);
    expect(unpackHalves(packHalves(h), 3)).toEqual(h);
  });
});
