/**
 * Q8_0 and Q4_0 blocks byte for byte: vectors worked out by hand (each documented below), and
 * vectors quantized by llama.cpp's own quantize_row_q8_0_ref / quantize_row_q4_0_ref
 * (fixtures/quant-vectors.json, made by scripts/llama-cpp-check/quant-vectors/make-vectors.sh).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { f32ToF16Bits } from '../../src/core/half';
import { dequantize, encodeF16, quantizeQ4_0, quantizeQ8_0 } from '../../src/io/gguf';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const block = (values: Record<number, number>) => Float32Array.from({ length: 32 }, (_, i) => values[i] ?? 0);
const fromHexF32 = (h: string) => new Float32Array(new Uint32Array(h.match(/.{8}/g)!.map((w) => parseInt(w, 16))).buffer);

describe('Q8_0 (f16 d = amax / 127, int8 roundf(x / d))', () => {
  it('d = 1 exactly: q = roundf(x), halves away from zero', () => {
    // amax = 127 -> d = 1 (f16 0x3c00 -> bytes 00 3c), id = 1.
    // x:  127  -127  0  1  -1  2.5  -2.5  0.5  -0.5  1.49  -1.51  126.5  (then zeros)
    // q:  127  -127  0  1  -1   3    -3    1    -1    1     -2    127
    const x = block({ 0: 127, 1: -127, 3: 1, 4: -1, 5: 2.5, 6: -2.5, 7: 0.5, 8: -0.5, 9: 1.49, 10: -1.51, 11: 126.5 });
    expect(hex(quantizeQ8_0(x))).toBe('003c' + '7f8100' + '01ff' + '03fd' + '01ff' + '01fe' + '7f' + '00'.repeat(20));
  });

  it('d = 1/127 rounds to f16 0x2008; id = 1/d is 127 in f32, so 0.5 -> 63.5 -> 64', () => {
    // d = fround(1/127) = 0.0078740157; in f16: 2^-7 x (1 + 8/1024) (mantissa 8.06 -> 8) = bits 0x2008 -> bytes 08 20.
    // id = fround(1 / d) = 127 exactly (the f32 spacing near 127 is 7.6e-6).
    // x: 1  0.5  -0.5  0.25  ->  q: 127  64  -64  32
    const x = block({ 0: 1, 1: 0.5, 2: -0.5, 3: 0.25 });
    expect(f32ToF16Bits(Math.fround(1 / 127))).toBe(0x2008);
    expect(hex(quantizeQ8_0(x))).toBe('0820' + '7f40c020' + '00'.repeat(28));
  });

  it('an all-zero block is d = 0 and zero codes', () => {
    expect(hex(quantizeQ8_0(new Float32Array(32)))).toBe('00'.repeat(34));
  });

  it('dequantizes to f16(d) x q', () => {
    const x = block({ 0: 127, 1: -2.5, 2: 0.5 });
    expect([...dequantize('Q8_0', quantizeQ8_0(x)).slice(0, 4)]).toEqual([127, -3, 1, 0]);
  });
});

describe('Q4_0 (f16 d = max / -8, nibbles min(15, trunc(x / d + 8.5)), first 16 values low)', () => {
  it('max = -8 -> d = 1: codes trunc(x + 8.5) clamped to 15', () => {
    // d = -8 / -8 = 1 (bytes 00 3c), id = 1.
    // x[0..7] = -8  7  0  0.5  -0.5  0.49  -3.2  7.6 -> q = 0 15 8 9 8 8 5 15 (16.1 clamps to 15)
    // x[16] = -7.9 -> 0;  x[17] = 3 -> 11;  every other x is 0 -> 8.
    // byte j = q[j] | q[j + 16] << 4: 00 bf 88 89 88 88 85 8f, then 88 x 8.
    const x = block({ 0: -8, 1: 7, 3: 0.5, 4: -0.5, 5: 0.49, 6: -3.2, 7: 7.6, 16: -7.9, 17: 3 });
    expect(hex(quantizeQ4_0(x))).toBe('003c' + '00bf88898888858f' + '88'.repeat(8));
  });

  it('max = +8 -> d = -1 (bytes 00 bc): the sign of the largest value flips the codes', () => {
    // id = -1: q = trunc(-x + 8.5). x = 8 -> 0; -8 -> trunc(16.5) = 16 -> 15; 1 -> 7; -1 -> 9; 0 -> 8.
    // 8 comes first, so max = +8 although -8 has the same magnitude.
    const x = block({ 0: 8, 1: -8, 2: 1, 3: -1 });
    expect(hex(quantizeQ4_0(x))).toBe('00bc' + '808f8789' + '88'.repeat(12));
  });

  it('on a tie of magnitudes the first value is max: -8 then 8 gives d = 1', () => {
    const x = block({ 0: -8, 1: 8 });
    expect(hex(quantizeQ4_0(x))).toBe('003c' + '808f' + '88'.repeat(14));
  });

  it('dequantizes to f16(d) x (q - 8)', () => {
    const x = block({ 0: -8, 1: 7, 2: 0.5, 16: 3 });
    const y = dequantize('Q4_0', quantizeQ4_0(x));
    expect([y[0], y[1], y[2], y[16], y[20]]).toEqual([-8, 7, 1, 3, 0]);
  });
});

describe('llama.cpp reference quantizers (fixtures/quant-vectors.json)', () => {
  const cases = JSON.parse(readFileSync('tests/gguf/fixtures/quant-vectors.json', 'utf8')) as Record<string, { f32: string; q8_0: string; q4_0: string }>;
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: Q8_0 and Q4_0 bytes are identical`, () => {
      const x = fromHexF32(c.f32);
      expect(hex(quantizeQ8_0(x))).toBe(c.q8_0);
      expect(hex(quantizeQ4_0(x))).toBe(c.q4_0);
    });
  }

  it('dequantized rows are within half a step (Q8_0) and one step (Q4_0) of the input', () => {
    const x = fromHexF32(cases['uniform in (-1, 1), 4 blocks'].f32);
    const q8 = dequantize('Q8_0', quantizeQ8_0(x));
    const q4 = dequantize('Q4_0', quantizeQ4_0(x));
    for (let b = 0; b < x.length / 32; b++) {
      const amax = Math.max(...x.subarray(b * 32, b * 32 + 32).map(Math.abs));
      for (let i = b * 32; i < b * 32 + 32; i++) {
        expect(Math.abs(q8[i] - x[i])).toBeLessThanOrEqual((amax / 127) * 0.51);
        expect(Math.abs(q4[i] - x[i])).toBeLessThanOrEqual((amax / 8) * 1.01);
      }
    }
  });
});

describe('F16', () => {
  it('rounds to nearest even, little-endian', () => {
    // 1 -> 0x3c00; -2 -> 0xc000; 65504 (largest half) -> 0x7bff; 1 + 2^-11 is halfway to the next half and rounds to even 0x3c00.
    expect(hex(encodeF16([1, -2, 65504, 1 + 2 ** -11]))).toBe('003c' + '00c0' + 'ff7b' + '003c');
    expect([...dequantize('F16', encodeF16([0.5, -0.25]))]).toEqual([0.5, -0.25]);
  });

  it('a row not made of whole 32-value blocks is refused', () => {
    expect(() => quantizeQ8_0(new Float32Array(48))).toThrow(/not a whole number of 32-value blocks/);
  });
});
