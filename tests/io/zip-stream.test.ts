/**
 * The streaming zip writer: what it writes is read back by fflate and by Python's zipfile (the
 * unzip that transformers users have), whole entries and streamed ones (data descriptors), and the
 * ZIP64 records (exercised by lowering the offset from which they are used).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32 } from '../../src/core/crc32';
import { ZipStream } from '../../src/io/zip/zip-stream';

const root = mkdtempSync(join(tmpdir(), 'zip-stream-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function build(opts: { zip64Above?: number } = {}): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const zip = new ZipStream((c) => void chunks.push(c.slice()), { date: new Date(2024, 4, 17, 13, 45, 30), ...opts });
  await zip.add('config.json', '{"a": 1}');
  await zip.add('empty.txt', new Uint8Array(0));
  const big = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) & 0xff);
  const size = await zip.addStreamed('model.safetensors', async (sink) => {
    const reused = new Uint8Array(10_000); // the caller reuses its buffer between chunks
    for (let at = 0; at < big.length; at += reused.length) {
      reused.set(big.subarray(at, at + reused.length));
      await sink(reused.subarray(0, Math.min(reused.length, big.length - at)));
    }
  });
  expect(size).toBe(70_000);
  await zip.add('sub/README.md', 'héllo');
  const total = await zip.end();
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) (out.set(c, at), (at += c.byteLength));
  expect(at).toBe(total);
  expect(zip.files.map((f) => f.name)).toEqual(['config.json', 'empty.txt', 'model.safetensors', 'sub/README.md']);
  return out;
}

const python = (file: string) => JSON.parse(execFileSync('python3', ['-c', `
import json, sys, zipfile, zlib
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps({i.filename: [i.file_size, zlib.crc32(z.read(i)), i.date_time[:6]] for i in z.infolist()}))
`, file]).toString()) as Record<string, [number, number, number[]]>;

describe('ZipStream', () => {
  it('fflate and Python read every entry back, byte for byte, with the CRC-32 it carries', async () => {
    const bytes = await build();
    const files = unzipSync(bytes);
    expect(Object.keys(files)).toEqual(['config.json', 'empty.txt', 'model.safetensors', 'sub/README.md']);
    expect(strFromU8(files['config.json'])).toBe('{"a": 1}');
    expect(strFromU8(files['sub/README.md'])).toBe('héllo');
    expect(files['model.safetensors'].every((v, i) => v === ((i * 7) & 0xff))).toBe(true);
    const file = join(root, 'a.zip');
    writeFileSync(file, bytes);
    const py = python(file);
    expect(py['model.safetensors'].slice(0, 2)).toEqual([70_000, crc32(files['model.safetensors'])]);
    expect(py['empty.txt'][0]).toBe(0);
    expect(py['config.json'][2]).toEqual([2024, 5, 17, 13, 45, 30]);
  });

  it('ZIP64 records (offsets in extra fields, the ZIP64 end record and locator) read back the same', async () => {
    const bytes = await build({ zip64Above: 100 });
    const dv = new DataView(bytes.buffer);
    const locator = bytes.byteLength - 22 - 20;
    expect(dv.getUint32(locator, true)).toBe(0x07064b50);
    expect(dv.getUint32(bytes.byteLength - 22 + 16, true)).toBe(0xffffffff); // the EOCD's directory offset points to ZIP64
    const file = join(root, 'b.zip');
    writeFileSync(file, bytes);
    expect(Object.keys(python(file))).toEqual(['config.json', 'empty.txt', 'model.safetensors', 'sub/README.md']);
    expect(python(file)['model.safetensors'][0]).toBe(70_000);
  });

  it('refuses a name twice, a path outside the archive, and entries after the end', async () => {
    const zip = new ZipStream(() => undefined);
    await zip.add('a', 'x');
    await expect(zip.add('a', 'y')).rejects.toThrow(/added twice/);
    await expect(zip.add('../x', 'y')).rejects.toThrow(/not a relative file name/);
    await zip.end();
    await expect(zip.add('b', 'y')).rejects.toThrow(/after the archive was ended/);
  });
});
