/** The GGUF container: header, metadata of every value type, tensor infos, alignment, streaming. */
import { describe, expect, it } from 'vitest';
import { GgufStream, GgufValueType, ggufLayout, kv, readGguf, writeGgufToBytes, type GgufKv } from '../../src/io/gguf';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('GGUF header and layout', () => {
  it('writes the bytes of a one-key, one-tensor file as the spec lays them out', async () => {
    const bytes = await writeGgufToBytes([kv.u32('a', 1)], [{ name: 'x', type: 'F32', dims: [2], data: new Float32Array([1, -2]) }]);
    // magic "GGUF", version 3, tensor_count 1 (u64), metadata_kv_count 1 (u64)            24 bytes
    // key: u64 length 1, "a"; type UINT32 (4); value 1                                      17 bytes
    // tensor: u64 length 1, "x"; n_dims 1; dims[0] = 2 (u64); type F32 (0); offset 0 (u64)   33 bytes
    // = 74 bytes, zero-padded to the alignment 32 -> data at 96; 8 bytes of data padded to 32 -> 128 bytes.
    const expected =
      '47475546' + '03000000' + '0100000000000000' + '0100000000000000' +
      '0100000000000000' + '61' + '04000000' + '01000000' +
      '0100000000000000' + '78' + '01000000' + '0200000000000000' + '00000000' + '0000000000000000' +
      '00'.repeat(96 - 74) +
      '0000803f' + '000000c0' + '00'.repeat(24);
    expect(hex(bytes)).toBe(expected);
    expect(bytes.byteLength).toBe(128);
  });

  it('round-trips every metadata value type, arrays of strings included', async () => {
    const metadata: GgufKv[] = [
      { key: 'u8', value: { type: 'u8', value: 255 } },
      { key: 'i8', value: { type: 'i8', value: -128 } },
      { key: 'u16', value: { type: 'u16', value: 65535 } },
      { key: 'i16', value: { type: 'i16', value: -32768 } },
      kv.u32('u32', 4294967295),
      kv.i32('i32', -2147483648),
      kv.f32('f32', 0.1),
      kv.bool('bool', true),
      kv.str('string', 'héllo ▁ 🦙'),
      { key: 'u64', value: { type: 'u64', value: 2n ** 63n } },
      { key: 'i64', value: { type: 'i64', value: -(2n ** 40n) } },
      { key: 'f64', value: { type: 'f64', value: 0.1 } },
      kv.strings('strings', ['a', '', 'Ġthe', '<|eot_id|>']),
      kv.i32s('i32s', Int32Array.from([1, -1, 3])),
      kv.f32s('f32s', Float32Array.from([-1000, 0.5])),
      kv.bools('bools', [true, false, true]),
    ];
    const f = readGguf(await writeGgufToBytes(metadata, []));
    expect(f.version).toBe(3);
    expect(Object.fromEntries(f.metadata)).toEqual({
      u8: 255, i8: -128, u16: 65535, i16: -32768, u32: 4294967295, i32: -2147483648, f32: Math.fround(0.1), bool: true,
      string: 'héllo ▁ 🦙', u64: 2n ** 63n, i64: -(2n ** 40n), f64: 0.1, strings: ['a', '', 'Ġthe', '<|eot_id|>'],
      i32s: [1, -1, 3], f32s: [-1000, 0.5], bools: [true, false, true],
    });
    expect(f.types.get('strings')).toEqual({ type: GgufValueType.ARRAY, itemType: GgufValueType.STRING });
    expect(f.types.get('u64')).toEqual({ type: GgufValueType.UINT64, itemType: undefined });
  });

  it('aligns every tensor, and honours general.alignment', async () => {
    for (const alignment of [32, 64]) {
      const md = alignment === 32 ? [] : [kv.u32('general.alignment', alignment)];
      const tensors = [
        { name: 'a', type: 'F32' as const, dims: [3], data: new Float32Array([1, 2, 3]) },
        { name: 'b', type: 'F16' as const, dims: [5, 1], data: new Uint16Array(5).fill(0x3c00) },
        { name: 'c', type: 'Q8_0' as const, dims: [32, 2], data: new Uint8Array(68).fill(1) },
      ];
      const f = readGguf(await writeGgufToBytes(md, tensors));
      expect(f.alignment).toBe(alignment);
      expect(f.dataOffset % alignment).toBe(0);
      expect(f.tensors.map((t) => t.offset)).toEqual([0, alignment, 2 * alignment]);
      expect(f.tensors.map((t) => t.dims)).toEqual([[3], [5, 1], [32, 2]]);
      expect([...f.f32('a')]).toEqual([1, 2, 3]);
      expect([...f.f32('b')]).toEqual([1, 1, 1, 1, 1]);
    }
  });

  it('refuses what llama.cpp would refuse', () => {
    expect(() => ggufLayout([kv.u32('general.alignment', 24)], [])).toThrow(/power of two/);
    expect(() => ggufLayout([kv.u32('k', 1), kv.u32('k', 2)], [])).toThrow(/appears twice/);
    expect(() => ggufLayout([], [{ name: 'x'.repeat(64), type: 'F32', dims: [1] }])).toThrow(/1 to 63 bytes/);
    expect(() => ggufLayout([], [{ name: 'q', type: 'Q4_0', dims: [48, 2] }])).toThrow(/multiple of 32/);
    expect(() => ggufLayout([kv.u32('n', -1)], [])).toThrow(/u32 must be an integer/);
  });
});

describe('GgufStream', () => {
  it('streams tensor by tensor, each chunk no larger than one tensor', async () => {
    const chunks: number[] = [];
    const tensors = [{ name: 'a', type: 'F32' as const, dims: [4] }, { name: 'b', type: 'F32' as const, dims: [8] }];
    const s = new GgufStream([kv.str('general.architecture', 'llama')], tensors, (c) => void chunks.push(c.byteLength));
    await s.start();
    await s.write('a', new Float32Array(4));
    await s.write('b', new Float32Array(8));
    s.end();
    expect(chunks).toEqual([s.layout.header.byteLength, 16, 16, 32]);
    expect(s.bytesWritten).toBe(s.layout.totalBytes);
  });

  it('names the tensor written out of order, of the wrong size, or missing', async () => {
    const tensors = [{ name: 'a', type: 'F32' as const, dims: [4] }, { name: 'b', type: 'F32' as const, dims: [4] }];
    const s = new GgufStream([], tensors, () => undefined);
    await expect(s.write('a', new Float32Array(4))).rejects.toThrow(/before start/);
    await s.start();
    await expect(s.write('b', new Float32Array(4))).rejects.toThrow(/"b" written where the header expects "a"/);
    await expect(s.write('a', new Float32Array(3))).rejects.toThrow(/12 bytes, the header says 16/);
    await s.write('a', new Float32Array(4));
    expect(() => s.end()).toThrow(/1 tensors were not written \(next: "b"\)/);
  });
});
