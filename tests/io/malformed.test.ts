import { describe, expect, it } from 'vitest';
import { BadFileError } from '../../src/core/errors';
import { bytesSource } from '../../src/io/safetensors/byte-source';
import { openSafetensors, type OpenOptions } from '../../src/io/safetensors/reader';
import { writeSafetensors } from '../../src/io/safetensors/writer';
import { rawFile, recording, rng } from './helpers';

const f32 = (shape: number[], begin: number, end: number): object => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
const h = (o: object): string => JSON.stringify(o);

interface Case {
  name: string;
  file: Uint8Array;
  /** Words the message must contain (besides the file name). */
  words: (string | RegExp)[];
  opts?: OpenOptions;
}

const CASES: Case[] = [
  { name: 'too-short', file: new Uint8Array(5), words: ['too short (5 bytes)', '8-byte header length'] },
  { name: 'header-len-zero', file: rawFile('', 16, 0), words: ['header length is 0'] },
  { name: 'header-len-2^50', file: rawFile('{}', 0, 2n ** 50n), words: ['header length 1125899906842624', 'runs past the end of the file'] },
  { name: 'header-len-u64-max', file: rawFile('{}', 0, 2n ** 64n - 1n), words: ['runs past the end of the file'] },
  { name: 'header-len-past-eof', file: rawFile('{}', 0, 3), words: ['header length 3 runs past the end of the file (10 bytes)'] },
  { name: 'header-over-limit', file: rawFile(h({ a: f32([1], 0, 4) }), 4), words: ['exceeds the limit of 16 bytes', 'maxHeaderBytes'], opts: { maxHeaderBytes: 16 } },
  { name: 'not-utf8', file: rawFile(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])), words: ['not valid UTF-8'] },
  { name: 'not-json', file: rawFile('{"a": '), words: ['not valid JSON'] },
  { name: 'trailing-garbage', file: rawFile('{} x'), words: ['not valid JSON'] },
  { name: 'not-object', file: rawFile('[1, 2]'), words: ['not a JSON object', "start with '{'"] },
  { name: 'leading-space', file: rawFile(' {}'), words: ["must start with '{'"] },
  { name: 'entry-not-object', file: rawFile(h({ t: 5 })), words: ['tensor "t"', 'entry is not an object (a number)'] },
  { name: 'entry-array', file: rawFile(h({ t: [] })), words: ['tensor "t"', 'entry is not an object (an array)'] },
  { name: 'missing-dtype', file: rawFile(h({ t: { shape: [1], data_offsets: [0, 4] } }), 4), words: ['tensor "t"', 'missing dtype'] },
  { name: 'missing-shape', file: rawFile(h({ t: { dtype: 'F32', data_offsets: [0, 4] } }), 4), words: ['tensor "t"', 'missing shape'] },
  { name: 'missing-offsets', file: rawFile(h({ t: { dtype: 'F32', shape: [1] } }), 4), words: ['tensor "t"', 'missing data_offsets'] },
  { name: 'unknown-dtype', file: rawFile(h({ t: { dtype: 'Q4_K', shape: [1], data_offsets: [0, 1] } }), 1), words: ['unknown dtype "Q4_K"', 'supported: F64'] },
  { name: 'dtype-not-string', file: rawFile(h({ t: { dtype: 4, shape: [1], data_offsets: [0, 4] } }), 4), words: ['unknown dtype 4'] },
  { name: 'shape-negative', file: rawFile(h({ t: f32([-1], 0, 4) }), 4), words: ['shape [-1]', 'non-negative integers'] },
  { name: 'shape-fraction', file: rawFile(h({ t: f32([1.5], 0, 4) }), 4), words: ['shape [1.5]', 'non-negative integers'] },
  { name: 'shape-not-array', file: rawFile(h({ t: f32('4' as unknown as number[], 0, 4) }), 4), words: ['shape "4"', 'must be an array'] },
  { name: 'offsets-reversed', file: rawFile(h({ t: f32([0], 4, 0) }), 4), words: ['data_offsets [4,0]', 'begin <= end'] },
  { name: 'offsets-three', file: rawFile(h({ t: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }), 4), words: ['data_offsets [0,4,8]', 'two non-negative integers'] },
  { name: 'offsets-negative', file: rawFile(h({ t: f32([1], -4, 0) }), 4), words: ['data_offsets [-4,0]'] },
  { name: 'offsets-unsafe', file: rawFile('{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,1e300]}}', 4), words: ['data_offsets [0,1e+300]'] },
  { name: 'size-mismatch', file: rawFile(h({ t: f32([3], 0, 8) }), 8), words: ['shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8'] },
  { name: 'shape-overflow', file: rawFile(h({ t: f32([2 ** 40, 2 ** 40, 2 ** 20], 0, 4) }), 4), words: ['overflows'] },
  { name: 'offsets-past-data', file: rawFile(h({ t: f32([4], 0, 16) }), 8), words: ['run past the end of the data section (8 bytes)', 'truncated'] },
  { name: 'offsets-far-past', file: rawFile(h({ t: { dtype: 'U8', shape: [2 ** 40], data_offsets: [0, 2 ** 40] } }), 8), words: ['run past the end of the data section'] },
  { name: 'overlap', file: rawFile(h({ a: f32([2], 0, 8), b: f32([2], 4, 12) }), 12), words: ['tensors "a" and "b" overlap'] },
  { name: 'overlap-zero-size', file: rawFile(h({ a: f32([2], 0, 8), z: f32([0], 4, 4) }), 8), words: ['tensors "a" and "z" overlap'] },
  { name: 'hole-between', file: rawFile(h({ a: f32([1], 0, 4), b: f32([1], 8, 12) }), 12), words: ['hole of 4 bytes between tensors "a" and "b"'] },
  { name: 'hole-before', file: rawFile(h({ a: f32([1], 4, 8) }), 8), words: ['hole of 4 bytes before the first tensor "a"'] },
  { name: 'hole-after', file: rawFile(h({ a: f32([1], 0, 4) }), 12), words: ['hole of 8 bytes after the last tensor'] },
  { name: 'data-without-tensors', file: rawFile('{}', 4), words: ['hole of 4 bytes after the last tensor'] },
  { name: 'metadata-number', file: rawFile(h({ __metadata__: { a: 1 } })), words: ['__metadata__ must map strings to strings', '"a" is a number'] },
  { name: 'metadata-array', file: rawFile(h({ __metadata__: ['a'] })), words: ['__metadata__ must be an object', 'an array'] },
  { name: 'metadata-nested', file: rawFile(h({ __metadata__: { a: { b: 'c' } } })), words: ['"a" is an object'] },
  { name: 'duplicate-name', file: rawFile(`{"a":${h(f32([1], 0, 4))},"a":${h(f32([1], 4, 8))}}`, 8), words: ['duplicate tensor name "a"'] },
  { name: 'duplicate-escaped', file: rawFile(`{"ab":${h(f32([1], 0, 4))}, "\\u0061b" :${h(f32([1], 4, 8))}}`, 8), words: ['duplicate tensor name "ab"'] },
  { name: 'duplicate-metadata', file: rawFile('{"__metadata__":{"k":"1"},"__metadata__":{}}'), words: ['duplicate tensor name "__metadata__"'] },
  { name: 'duplicate-field', file: rawFile('{"t":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}}', 4), words: ['duplicate key "dtype" inside the header entry "t"'] },
  { name: 'empty-name', file: rawFile(h({ '': f32([1], 0, 4) }), 4), words: ['a tensor has an empty name'] },
];

describe('malformed safetensors files', () => {
  it('the corpus is large', () => expect(CASES.length).toBeGreaterThanOrEqual(14));

  for (const c of CASES) {
    it(`${c.name} is rejected with a specific BadFileError`, async () => {
      const name = `bad-${c.name}.safetensors`;
      const src = recording(bytesSource(c.file, name));
      const err = await openSafetensors(src, c.opts).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BadFileError);
      const msg = (err as BadFileError).message;
      expect((err as BadFileError).file).toBe(name);
      expect(msg.startsWith(`${name}: `)).toBe(true);
      for (const w of c.words) expect(msg).toMatch(typeof w === 'string' ? new RegExp(w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : w);
      // Nothing read (so nothing allocated) beyond what the file holds.
      expect(src.maxRead).toBeLessThanOrEqual(c.file.byteLength);
      expect(src.total).toBeLessThanOrEqual(c.file.byteLength);
    });
  }

  it('legal edge cases open: zero-size tensors, scalars, null metadata, extra fields, trailing spaces', async () => {
    const file = rawFile(
      '{"__metadata__":null,"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]},' +
        '"s":{"dtype":"F32","shape":[],"data_offsets":[0,4],"extra":1},"z2":{"dtype":"U8","shape":[0],"data_offsets":[4,4]}}   ',
      4,
    );
    const st = await openSafetensors(bytesSource(file));
    expect(st.names()).toEqual(['z', 's', 'z2']);
    expect(st.metadata).toEqual({});
  });

  it('a "__proto__" tensor or metadata key is plain data', async () => {
    const file = rawFile('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"__metadata__":{"__proto__":"x"}}', 1);
    const st = await openSafetensors(bytesSource(file));
    expect(st.names()).toEqual(['__proto__']);
    expect(Object.keys(st.metadata)).toEqual(['__proto__']);
  });

  it('fuzz: random corruptions and truncations of a valid file never crash', async () => {
    const good = writeSafetensors(
      [
        { name: 'a', dtype: 'F32', shape: [3, 2], data: new Float32Array(6) },
        { name: 'b', dtype: 'BF16', shape: [5], data: new Uint16Array(5) },
        { name: 'c', dtype: 'I64', shape: [1, 1], data: new BigInt64Array(1) },
      ],
      { format: 'pt' },
    );
    const r = rng(7);
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      let f = good.slice();
      if (i % 4 === 0) f = f.subarray(0, Math.floor(r() * f.length));
      else for (let k = 0; k < 1 + (i % 3); k++) f[Math.floor(r() * Math.min(f.length, 140))] = Math.floor(r() * 256);
      const src = recording(bytesSource(f, 'fuzz'));
      try {
        const st = await openSafetensors(src);
        for (const n of st.names()) await st.readF32(n);
      } catch (e) {
        if (!(e instanceof BadFileError)) throw new Error(`case ${i}: ${String(e)}`);
        rejected++;
      }
      expect(src.maxRead).toBeLessThanOrEqual(f.byteLength);
    }
    expect(rejected).toBeGreaterThan(500);
  });
});
