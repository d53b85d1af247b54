/**
 * Q5_0, Q4_K and Q6_K (the blocks of llama.cpp's Q4_K_M mix) byte for byte: blocks worked out by
 * hand (documented below), and rows quantized by llama.cpp's own quantize_row_q5_0_ref /
 * quantize_row_q4_K_ref / quantize_row_q6_K_ref (fixtures/quant-vectors.json, made by
 * scripts/llama-cpp-check/quant-vectors/make-vectors.sh).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dequantize, nearestInt, quantizeQ4_K, quantizeQ5_0, quantizeQ6_K } from '../../src/io/gguf';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHexF32 = (h: string) => new Float32Array(new Uint32Array(h.match(/.{8}/g)!.map((w) => parseInt(w, 16))).buffer);

describe('nearest_int (1.5 x 2^23 added in f32)', () => {
  it('rounds halves to even, as the FPU does', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999998, 14.51, -0].map(nearestInt)).toEqual([0, 2, 2, 0, -2, -2, 2, 15, 0]);
  });
});

describe('Q5_0 (f16 d = max / -16, 5-bit codes min(31, trunc(x / d + 16.5)), fifth bits in qh)', () => {
  it('max = -16 -> d = 1: codes x + 16 (trunc of x + 16.5), the fifth bits in a u32', () => {
    // d = -16 / -16 = 1 (bytes 00 3c). x[0] = -16 -> 0; x[1] = 15 -> 31; x[2] = 0 -> 16 (bit 4 set); x[16] = 3 -> 19 (bit 4 set);
    // x[17] = -3.4 -> trunc(13.1) = 13 (bit 4 clear); every other value 0 -> 16.
    // qh: bit j (j < 16) is bit 4 of q[j]: all but j = 0 -> 0xfffe; bit 16 + j of q[16 + j]: all but j = 1 -> 0xfffd; u32 0xfffdfffe -> fe ff fd ff.
    // qs[j] = (q[j] & 15) | (q[j + 16] & 15) << 4: j = 0: 0 | 3 << 4 = 30; j = 1: 15 | 13 << 4 = df; j = 2..15: 0.
    const x = Float32Array.from({ length: 32 }, (_, i) => ({ 0: -16, 1: 15, 16: 3, 17: -3.4 } as Record<number, number>)[i] ?? 0);
    expect(hex(quantizeQ5_0(x))).toBe('003c' + 'fefffdff' + '30df' + '00'.repeat(14));
    expect([...dequantize('Q5_0', quantizeQ5_0(x)).slice(0, 3)]).toEqual([-16, 15, 0]);
  });
});

describe('Q4_K (super-blocks of 256: eight 32-value sub-blocks, x ~ d sc q - dmin m, 6-bit sc and m)', () => {
  it('an all-zero super-block is 144 zero bytes', () => {
    expect(hex(quantizeQ4_K(new Float32Array(256)))).toBe('00'.repeat(144));
  });

  it('sub-blocks of 0..15 twice: scale 1, min 0, so sc = 63, d = f16(1/63), codes = the values', () => {
    // make_qkx2_quants fits every sub-block exactly (scale 1, min 0): no trial scale beats error 0.
    // d = f16(1/63) = 0x2410 (bytes 10 24), dmin = f16(0) = 0.
    // scales: j < 4: 63 | (63 >> 4) << 6 = ff, and the mins 0; j >= 4: (63 & 15) | (0 & 15) << 4 = 0f.
    // qs: per 64 values, byte l = q[l] | q[l + 32] << 4 = (l % 16) * 0x11.
    const x = Float32Array.from({ length: 256 }, (_, i) => i % 16);
    const qs = Array.from({ length: 32 }, (_, l) => ((l % 16) * 0x11).toString(16).padStart(2, '0')).join('');
    expect(hex(quantizeQ4_K(x))).toBe('1024' + '0000' + 'ffffffff' + '00000000' + '0f0f0f0f' + qs.repeat(4));
    // Dequantized: f16(1/63) x 63 x q = 0.999755859375 q.
    const y = dequantize('Q4_K', quantizeQ4_K(x));
    expect([y[0], y[1], y[15], y[255]]).toEqual([0, 0.999755859375, 15 * 0.999755859375, 15 * 0.999755859375]);
  });

  it('a row that is not whole super-blocks is refused', () => {
    expect(() => quantizeQ4_K(new Float32Array(288))).toThrow(/not a whole number of 256-value super-blocks/);
  });
});

describe('Q6_K (super-blocks of 256: sixteen 16-value sub-blocks, x ~ d scale (q - 32), int8 scales)', () => {
  it('an all-zero super-block is 210 zero bytes', () => {
    expect(hex(quantizeQ6_K(new Float32Array(256)))).toBe('00'.repeat(210));
  });

  it('integers with -32 first in each sub-block: scale 1, d = -1/128, scales -128, exact', () => {
    // make_qx_quants: max = -32, iscale = -32 / -32 = 1: codes are the values, an exact fit no trial beats.
    // max_scale = 1 -> iscale = -128: d = f16(-1/128) = 0xa000 (bytes 00 a0), every scale nearest_int(-128) = -128 (0x80);
    // d x scale = 1, so the codes are x + 32 and dequantize to x exactly.
    const x = Float32Array.from({ length: 256 }, (_, i) => (i % 16 === 0 ? -32 : (i % 16) - 8));
    const b = quantizeQ6_K(x);
    expect(hex(b.subarray(192, 210))).toBe('80'.repeat(16) + '00a0');
    expect([...dequantize('Q6_K', b)]).toEqual([...x]);
  });
});

describe('llama.cpp reference quantizers (fixtures/quant-vectors.json)', () => {
  const cases = JSON.parse(readFileSync('tests/gguf/fixtures/quant-vectors.json', 'utf8')) as Record<string, { f32: string; q5_0: string; q4_k?: string; q6_k?: string }>;
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: Q5_0${c.q4_k ? ', Q4_K and Q6_K' : ''} bytes are identical`, () => {
      const x = fromHexF32(c.f32);
      expect(hex(quantizeQ5_0(x))).toBe(c.q5_0);
      if (c.q4_k) expect(hex(quantizeQ4_K(x))).toBe(c.q4_k);
      if (c.q6_k) expect(hex(quantizeQ6_K(x))).toBe(c.q6_k);
    });
  }

  it('dequantized rows are close to the input: Q6_K within a 63-level step, Q4_K within a 15-level step of each sub-block\'s range', () => {
    const x = fromHexF32(cases['K: uniform in (-1, 1)'].f32);
    const q6 = dequantize('Q6_K', quantizeQ6_K(x));
    const q4 = dequantize('Q4_K', quantizeQ4_K(x));
    for (let i = 0; i < 256; i++) {
      expect(Math.abs(q6[i] - x[i])).toBeLessThanOrEqual(2 / 63);
      expect(Math.abs(q4[i] - x[i])).toBeLessThanOrEqual(2 / 15);
    }
  });
});
