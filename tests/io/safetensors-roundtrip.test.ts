import { describe, expect, it } from 'vitest';
import { bytesSource } from '../../src/io/safetensors/byte-source';
import { DTYPE_BYTES, DTYPES, type Dtype } from '../../src/io/safetensors/dtypes';
import { openSafetensors } from '../../src/io/safetensors/reader';
import { writeSafetensors, type TensorToWrite } from '../../src/io/safetensors/writer';
import { rng } from './helpers';

/** Random bytes that are valid for the dtype (BOOL is 0/1). */
function sample(dtype: Dtype, numel: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = Uint8Array.from({ length: numel * DTYPE_BYTES[dtype] }, () => Math.floor(r() * 256));
  if (dtype === 'BOOL') out.forEach((b, i) => (out[i] = b & 1));
  return out;
}

const headerOf = (file: Uint8Array): { len: number; text: string } => {
  const len = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { len, text: new TextDecoder().decode(file.subarray(8, 8 + len)) };
};

describe('writeSafetensors + openSafetensors', () => {
  it('round-trips every dtype bit-exactly, with metadata and odd sizes', async () => {
    const tensors: TensorToWrite[] = DTYPES.map((dtype, i) => ({
      name: `t.${dtype}`,
      dtype,
      shape: [3, i % 3 + 1],
      data: sample(dtype, 3 * (i % 3 + 1), i),
    }));
    const file = writeSafetensors(tensors, { format: 'pt', note: 'héllo' });
    const st = await openSafetensors(bytesSource(file, 'rt.safetensors'));
    expect(st.metadata).toEqual({ format: 'pt', note: 'héllo' });
    expect(st.names()).toEqual(tensors.map((t) => t.name));
    for (const t of tensors) {
      const info = st.info(t.name);
      expect(info.dtype).toBe(t.dtype);
      expect(info.shape).toEqual(t.shape);
      const raw = await st.readRaw(t.name);
      expect(raw).toEqual(t.data);
      expect(raw.byteOffset).toBe(0);
      expect(raw.buffer.byteLength).toBe(raw.byteLength);
      expect((await st.readF32(t.name)).length).toBe(t.shape[0] * t.shape[1]);
    }
  });

  it('pads the header with spaces to an 8-byte data start and packs data without gaps', () => {
    for (let nameLen = 1; nameLen <= 9; nameLen++) {
      const file = writeSafetensors([{ name: 'x'.repeat(nameLen), dtype: 'U8', shape: [3], data: new Uint8Array([1, 2, 3]) }]);
      const { len, text } = headerOf(file);
      expect((8 + len) % 8).toBe(0);
      expect(text.trimEnd()).toBe(text.replace(/ +$/, ''));
      expect(JSON.parse(text)).toEqual({ ['x'.repeat(nameLen)]: { dtype: 'U8', shape: [3], data_offsets: [0, 3] } });
      expect(file.byteLength).toBe(8 + len + 3);
      expect(Array.from(file.subarray(8 + len))).toEqual([1, 2, 3]);
    }
  });

  it('keeps the given tensor order, even for integer-like names, and omits __metadata__ when not given', () => {
    const one = new Float32Array([1]);
    const file = writeSafetensors([
      { name: 'b', dtype: 'F32', shape: [1], data: one },
      { name: '10', dtype: 'F32', shape: [1], data: one },
      { name: '2', dtype: 'F32', shape: [], data: one },
    ]);
    const { text } = headerOf(file);
    expect(text.indexOf('"b"')).toBeLessThan(text.indexOf('"10"'));
    expect(text.indexOf('"10"')).toBeLessThan(text.indexOf('"2"'));
    expect(text).not.toContain('__metadata__');
  });

  it('accepts typed arrays of any kind, zero-size and scalar tensors', async () => {
    const file = writeSafetensors([
      { name: 'f', dtype: 'F32', shape: [2, 2], data: new Float32Array([1, -2, 3.5, 1e-30]) },
      { name: 'empty', dtype: 'F32', shape: [0, 5], data: new Float32Array(0) },
      { name: 'd', dtype: 'F64', shape: [2], data: new Float64Array([Math.PI, -1]) },
      { name: 'scalar', dtype: 'I32', shape: [], data: new Int32Array([-7]) },
      { name: 'i8', dtype: 'I8', shape: [2], data: new Int8Array([-128, 5]) },
      { name: 'h', dtype: 'F16', shape: [1], data: new Uint16Array([0x3c00]) },
      { name: 'big', dtype: 'I64', shape: [1], data: new BigInt64Array([-(2n ** 40n)]) },
      { name: 'view', dtype: 'U8', shape: [2], data: new Uint8Array([9, 8, 7, 6]).subarray(1, 3) },
    ]);
    const st = await openSafetensors(bytesSource(file));
    expect(Array.from(await st.readF32('f'))).toEqual([1, -2, 3.5, Math.fround(1e-30)]);
    expect(st.info('empty')).toMatchObject({ shape: [0, 5], begin: 16, end: 16 });
    expect((await st.readF32('empty')).length).toBe(0);
    expect(Array.from(await st.readF32('d'))).toEqual([Math.fround(Math.PI), -1]);
    expect(Array.from(await st.readF32('scalar'))).toEqual([-7]);
    expect(Array.from(await st.readF32('i8'))).toEqual([-128, 5]);
    expect(Array.from(await st.readF32('h'))).toEqual([1]);
    expect(Array.from(await st.readF32('big'))).toEqual([-(2 ** 40)]);
    expect(Array.from(await st.readRaw('view'))).toEqual([8, 7]);
    expect(() => st.info('nope')).toThrow(/has no tensor named "nope"/);
    expect(st.has('f') && !st.has('nope')).toBe(true);
  });

  it('an empty file list is a valid file', async () => {
    const st = await openSafetensors(bytesSource(writeSafetensors([])));
    expect(st.names()).toEqual([]);
  });

  it('refuses data whose length does not match the shape, and other writer mistakes', () => {
    const f = new Float32Array(6);
    expect(() => writeSafetensors([{ name: 'a', dtype: 'F32', shape: [2, 2], data: f }])).toThrow(/needs 16 bytes but data has 24/);
    expect(() => writeSafetensors([{ name: 'a', dtype: 'F16', shape: [6], data: f }])).toThrow(/needs 12 bytes/);
    expect(() => writeSafetensors([{ name: 'a', dtype: 'F32', shape: [-6], data: f }])).toThrow(/bad shape/);
    expect(() => writeSafetensors([{ name: '', dtype: 'F32', shape: [6], data: f }])).toThrow(/invalid tensor name/);
    expect(() => writeSafetensors([{ name: 'a', dtype: 'Q4' as Dtype, shape: [6], data: f }])).toThrow(/unknown dtype/);
    const t = { name: 'a', dtype: 'F32' as const, shape: [6], data: f };
    expect(() => writeSafetensors([t, t])).toThrow(/appears twice/);
  });
});
