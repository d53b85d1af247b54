import { describe, expect, it } from 'vitest';
import {
  NF4_CODEBOOK, dequantizeAbsmax, dequantizeNf4, doubleQuantizeAbsmax, nf4Bytes, nf4BytesPerParam, quantizeNf4,
} from '../../src/reference/quant/nf4';
import { createDynamicMap } from '../../src/reference/quant/dynamic-map';
import { packWeight, unpackWeight } from '../../src/reference/quant/packed';
import { unpackBytes } from '../../src/reference/quant/pack';
import { firstBitDifference, loadNf4Golden } from './golden-nf4';

const golden = await loadNf4Golden();

function randn(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

describe('NF4 against the bitsandbytes golden files', () => {
  for (const g of golden) {
    it(`${g.name} ${JSON.stringify(g.shape)}: codes and absmax bit-exact, dequant exact`, () => {
      const t = quantizeNf4(g.x);
      expect(t.codes.length).toBe(g.packed.length);
      const at = firstBitDifference(t.codes, g.packed);
      expect(at, `first differing byte ${at}: ours ${t.codes[at]} golden ${g.packed[at]}`).toBe(-1);
      expect(firstBitDifference(t.absmax, g.absmax)).toBe(-1);
      expect(firstBitDifference(dequantizeNf4(t), g.dequant)).toBe(-1);
    });
  }

  it('the packed u32 layout round-trips to the same bytes and values', () => {
    for (const g of golden) {
      const p = packWeight(g.x, 'nf4');
      expect(p.words.length).toBe(Math.ceil(g.x.length / 8));
      expect(firstBitDifference(unpackBytes(p.words, g.packed.length), g.packed)).toBe(-1);
      // byte k is bits 8*(k%4).. of word k/4
      expect(p.words[0] & 0xff).toBe(g.packed[0]);
      if (g.packed.length > 1) expect((p.words[0] >>> 8) & 0xff).toBe(g.packed[1]);
      expect(firstBitDifference(unpackWeight(p), g.dequant)).toBe(-1);
    }
  });
});

describe('NF4 edge cases', () => {
  it('an all-zero block stores code 0 (as bitsandbytes) and dequantizes to zero', () => {
    const x = new Float32Array(70); // block 0 all zero, block 1 (6 elements) not
    x[65] = -2;
    const t = quantizeNf4(x);
    expect(t.absmax[0]).toBe(0);
    expect([...t.codes.subarray(0, 32)].every((b) => b === 0)).toBe(true);
    const d = dequantizeNf4(t);
    expect([...d.subarray(0, 64)].every((v) => v === 0)).toBe(true);
    expect(d[65]).toBe(-2);
  });

  it('exact codebook multiples quantize to themselves; odd counts pad a zero low nibble', () => {
    const x = Float32Array.from(NF4_CODEBOOK, (v) => v * 3);
    const odd = new Float32Array(17);
    odd.set(x.subarray(0, 16));
    odd[16] = 3;
    const t = quantizeNf4(odd);
    expect(t.codes.length).toBe(9);
    expect(t.codes[8]).toBe(15 << 4);
    for (let i = 0; i < 16; i++) expect(dequantizeNf4(t)[i]).toBe(Math.fround(NF4_CODEBOOK[i] * 3));
  });
});

describe('NF4 double quantization', () => {
  it('the dynamic map is bitsandbytes create_dynamic_map(signed=True)', () => {
    const code = createDynamicMap();
    expect(code.length).toBe(256);
    for (let i = 1; i < 256; i++) expect(code[i]).toBeGreaterThan(code[i - 1]);
    expect(code[255]).toBe(1);
    expect(code[127]).toBe(0);
    expect(code[0]).toBeCloseTo(-0.9929687, 6); // -mean(0.9859375, 1.0)
    expect(code[254]).toBeCloseTo(0.9929687, 6);
    expect(code[128]).toBeCloseTo(5.5e-7, 12); // 1e-6 * mean(0.1, 1)
    expect(code.filter((v) => v > 0).length).toBe(128); // 127 + the 1.0
  });

  it('round trip within its bound, and the bytes per parameter it saves', () => {
    const x = randn(64 * 600 + 13, 7, 0.02); // 601 blocks -> 3 blocks of 256 absmax values
    const t = quantizeNf4(x);
    const dq = doubleQuantizeAbsmax(t.absmax);
    expect(dq.qabsmax.length).toBe(t.absmax.length);
    expect(dq.absmax2.length).toBe(3);
    const back = dequantizeAbsmax(dq);
    // 8-bit dynamic quantization of (absmax - mean): error below half the widest gap of the map
    // near 1 (1/128) times the block's absmax2, plus float32 rounding.
    for (let i = 0; i < back.length; i++) {
      const b2 = dq.absmax2[Math.floor(i / 256)];
      expect(Math.abs(back[i] - t.absmax[i])).toBeLessThanOrEqual(b2 / 128 + 1e-7);
    }
    // and the tensor itself stays within one NF4 step of the input on average
    const p = packWeight(x, 'nf4', { doubleQuant: true });
    const y = unpackWeight(p);
    let err = 0;
    for (let i = 0; i < x.length; i++) err += Math.abs(y[i] - x[i]);
    expect(err / x.length).toBeLessThan(0.02 * 0.1);

    expect(nf4BytesPerParam(false)).toBe(0.5625);
    const saved = (nf4BytesPerParam(false) - nf4BytesPerParam(true)) * 8;
    expect(saved).toBeCloseTo(0.373, 3);
    const b = nf4Bytes(x.length, true);
    expect(b).toEqual({ codes: Math.ceil(x.length / 2), absmax: 601, dq: 4 * (257 + 3) });
    expect(nf4Bytes(x.length, false).absmax).toBe(4 * 601);
  });
});
