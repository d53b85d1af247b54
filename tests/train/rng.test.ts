import { describe, expect, it } from 'vitest';
import {
  dataOrder, dropoutMask, dropoutScaleMask, dropoutStream, dropoutThreshold, fillU32, initLoraA,
  kaimingUniformLoraA, loraInitStream, philox4x32, Prng, randU32, uniform,
} from '../../src/core/rng';

describe('Philox-4x32-10', () => {
  // Random123 tests/kat_vectors: ctr[4] key[2] -> out[4]
  const kat: [number[], number[], number[]][] = [
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
  ];
  it('matches the Random123 known-answer vectors', () => {
    for (const [c, k, want] of kat) {
      expect([...philox4x32(c[0], c[1], c[2], c[3], k[0], k[1])]).toEqual(want);
    }
  });

  it('maps (seed, stream, counter) onto blocks of 4 as the spec says', () => {
    const seed = 0x1_0000_0007, stream = 0x3_0000_0005, counter = 4 * 0x1_0000_0002 + 3;
    const b = philox4x32(2, 5, 3, 1, 7, 1);
    expect(randU32(seed, stream, counter)).toBe(b[3]);
    expect(uniform(seed, stream, counter)).toBe((b[3] >>> 8) / 2 ** 24);
    const bulk = fillU32(new Uint32Array(11), 42, 9, 5);
    for (let i = 0; i < 11; i++) expect(bulk[i]).toBe(randU32(42, 9, 5 + i));
  });

  it('rejects non-integers and out-of-range inputs', () => {
    expect(() => randU32(-1, 0, 0)).toThrow();
    expect(() => randU32(0, 1.5, 0)).toThrow();
    expect(() => randU32(0, 0, 2 ** 53)).toThrow();
  });

  it('gives uniforms in [0, 1) with a plausible mean', () => {
    let s = 0;
    for (let i = 0; i < 10000; i++) {
      const u = uniform(1, 2, i);
      expect(u >= 0 && u < 1).toBe(true);
      s += u;
    }
    expect(Math.abs(s / 10000 - 0.5)).toBeLessThan(0.01);
  });
});

describe('streams and dropout masks', () => {
  it('packs distinct dropout streams for distinct (step, micro, layer, module)', () => {
    const seen = new Set<number>();
    for (const step of [0, 1, 2 ** 24 - 1]) for (const micro of [0, 1023]) for (const layer of [0, 5, 1023]) for (const m of [0, 7, 15]) {
      seen.add(dropoutStream(step, micro, layer, m));
    }
    expect(seen.size).toBe(3 * 2 * 3 * 3);
    expect(dropoutStream(0, 0, 0, 0)).not.toBe(loraInitStream(0, 0));
    expect(() => dropoutStream(2 ** 24, 0, 0, 0)).toThrow();
    expect(() => dropoutStream(0, 0, 0, 16)).toThrow();
  });

  it('keeps exactly when uniform >= p, at rate about 1 - p, as 0 or 1/(1-p)', () => {
    const n = 100_000;
    for (const p of [0, 0.05, 0.1, 0.5, 0.9]) {
      const m = dropoutMask(p, 1234, dropoutStream(3, 1, 2, 4), n);
      let kept = 0;
      for (let j = 0; j < n; j++) {
        const want = uniform(1234, dropoutStream(3, 1, 2, 4), j) >= p ? 1 : 0;
        if (j < 2000) expect(m.keep[j]).toBe(want);
        kept += m.keep[j];
      }
      expect(Math.abs(kept / n - (1 - p))).toBeLessThan(0.006);
      const sm = dropoutScaleMask(p, 1234, dropoutStream(3, 1, 2, 4), 50);
      for (let j = 0; j < 50; j++) expect(sm[j]).toBe(m.keep[j] ? Math.fround(1 / (1 - p)) : 0);
    }
    expect(dropoutThreshold(0)).toBe(0);
    expect(() => dropoutThreshold(1)).toThrow();
  });

  it('is identical for identical seeds and different for different streams or seeds', () => {
    const a = dropoutMask(0.3, 7, dropoutStream(1, 0, 0, 0), 4096).keep;
    const b = dropoutMask(0.3, 7, dropoutStream(1, 0, 0, 0), 4096).keep;
    const c = dropoutMask(0.3, 7, dropoutStream(1, 0, 0, 1), 4096).keep;
    const d = dropoutMask(0.3, 8, dropoutStream(1, 0, 0, 0), 4096).keep;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).not.toEqual(d);
  });
});

describe('data order and LoRA init', () => {
  it('shuffles into a seed- and epoch-dependent permutation', () => {
    for (const n of [0, 1, 2, 3, 17, 1000]) {
      const o = dataOrder(n, 5, 0);
      expect([...o].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    expect(dataOrder(1000, 5, 0)).toEqual(dataOrder(1000, 5, 0));
    expect(dataOrder(1000, 5, 0)).not.toEqual(dataOrder(1000, 6, 0));
    expect(dataOrder(1000, 5, 0)).not.toEqual(dataOrder(1000, 5, 1));
  });

  it('draws roughly uniform positions (first element over many seeds)', () => {
    const counts = new Array(4).fill(0);
    for (let s = 0; s < 4000; s++) counts[dataOrder(4, s, 0)[0]]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
    const r = new Prng(1, 2);
    for (let i = 0; i < 1000; i++) {
      const k = r.nextInt(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
      const d = r.nextDouble();
      expect(d >= 0 && d < 1).toBe(true);
    }
  });

  it('initialises lora_A with Kaiming-uniform(a=sqrt(5)): bound 1/sqrt(in), deterministic', () => {
    const R = 8, In = 257;
    const A = initLoraA(99, 3, 2, R, In);
    const bound = 1 / Math.sqrt(In);
    let maxAbs = 0, mean = 0, sq = 0;
    for (const a of A) {
      maxAbs = Math.max(maxAbs, Math.abs(a));
      mean += a;
      sq += a * a;
    }
    mean /= A.length;
    expect(maxAbs).toBeLessThanOrEqual(bound);
    expect(maxAbs).toBeGreaterThan(0.95 * bound);
    expect(Math.abs(mean)).toBeLessThan(0.05 * bound);
    // variance of U(-b, b) is b^2 / 3
    expect(Math.abs(sq / A.length - (bound * bound) / 3)).toBeLessThan(0.1 * (bound * bound) / 3);
    expect(initLoraA(99, 3, 2, R, In)).toEqual(A);
    expect(initLoraA(99, 3, 3, R, In)).not.toEqual(A);
    expect(initLoraA(100, 3, 2, R, In)).not.toEqual(A);
    expect(kaimingUniformLoraA(R, In, 99, loraInitStream(3, 2))).toEqual(A);
  });
});
