/**
 * A zip archive written as a stream (APPNOTE.TXT, stored entries: model weights barely compress and
 * a browser cannot afford to deflate gigabytes). Entries go to the sink one after another, so a
 * merged model streams into a download without ever being whole in memory:
 *
 * - a file known up front (`add`) carries its CRC-32 and sizes in its local header;
 * - a streamed file (`addStreamed`) has flag bit 3: its CRC-32 and sizes follow it in a data
 *   descriptor, and the central directory at the end repeats them (what unzip tools read);
 * - ZIP64 (the offset in an extra field, the ZIP64 end records) once the archive passes 4 GiB, so a
 *   sharded 7B merge is still one valid zip. One entry stays below 4 GiB (shards are 2 GB at most).
 *
 * File names are UTF-8 (flag bit 11). fflate reads what this writes (tests/io/zip-stream.test.ts).
 */
import { crc32 } from '../../core/crc32';
import type { ByteSink } from '../safetensors/stream';

const U32_MAX = 0xffffffff;
const FLAG_UTF8 = 0x0800;
const FLAG_DESCRIPTOR = 0x0008;

export interface ZipEntryInfo {
  name: string;
  bytes: number;
}

interface CentralEntry {
  name: Uint8Array;
  flags: number;
  crc: number;
  size: number;
  offset: number;
}

/** Little-endian fields into a fresh buffer. */
class Fields {
  private readonly parts: number[][] = [];
  u16(v: number): this { this.parts.push([v & 0xff, (v >>> 8) & 0xff]); return this; }
  u32(v: number): this { this.parts.push([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]); return this; }
  u64(v: number): this { return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32)); }
  bytes(b: Uint8Array): this { this.parts.push([...b]); return this; }
  finish(): Uint8Array { return Uint8Array.from(this.parts.flat()); }
}

/** MS-DOS time and date of `d` (two-second resolution, years from 1980). */
function dosTime(d: Date): { time: number; date: number } {
  const year = Math.min(Math.max(d.getFullYear(), 1980), 2107);
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

export class ZipStream {
  private readonly entries: CentralEntry[] = [];
  private readonly names = new Set<string>();
  private at = 0;
  private ended = false;
  private busy = false;
  private readonly stamp: { time: number; date: number };
  private readonly zip64Above: number;

  /** `zip64Above`: offsets from which ZIP64 records are used (4 GiB - 1; tests lower it to exercise them). */
  constructor(private readonly sink: ByteSink, opts: { date?: Date; zip64Above?: number } = {}) {
    this.stamp = dosTime(opts.date ?? new Date());
    this.zip64Above = Math.min(opts.zip64Above ?? U32_MAX, U32_MAX);
  }

  /** Bytes given to the sink so far. */
  get bytesWritten(): number {
    return this.at;
  }

  /** The entries written so far, in order. */
  get files(): ZipEntryInfo[] {
    return this.entries.map((e) => ({ name: new TextDecoder().decode(e.name), bytes: e.size }));
  }

  /** A file whose bytes are at hand (text is written as UTF-8). */
  async add(name: string, data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const crc = crc32(bytes);
    this.checkSize(name, bytes.byteLength);
    await this.entry(name, FLAG_UTF8, crc, bytes.byteLength, async () => {
      if (bytes.byteLength) await this.emit(bytes);
      return { crc, size: bytes.byteLength };
    });
  }

  /**
   * A file written through `write`, which gets a sink for its bytes (chunks may be reused by the
   * caller once the sink returns). Returns its size.
   */
  async addStreamed(name: string, write: (sink: ByteSink) => Promise<void>): Promise<number> {
    let size = 0;
    await this.entry(name, FLAG_UTF8 | FLAG_DESCRIPTOR, 0, 0, async () => {
      let crc = 0;
      await write(async (chunk) => {
        crc = crc32(chunk, crc);
        size += chunk.byteLength;
        this.checkSize(name, size);
        await this.emit(chunk);
      });
      await this.emit(new Fields().u32(0x08074b50).u32(crc).u32(size).u32(size).finish());
      return { crc, size };
    });
    return size;
  }

  /** The central directory and the end records; nothing may be added after. Returns the archive's size. */
  async end(): Promise<number> {
    this.open('end');
    this.ended = true;
    const cdStart = this.at;
    for (const e of this.entries) {
      const zip64 = e.offset >= this.zip64Above;
      const extra = zip64 ? new Fields().u16(0x0001).u16(8).u64(e.offset).finish() : new Uint8Array(0);
      await this.emit(new Fields()
        .u32(0x02014b50).u16(45).u16(zip64 ? 45 : 20).u16(e.flags).u16(0)
        .u16(this.stamp.time).u16(this.stamp.date).u32(e.crc).u32(e.size).u32(e.size)
        .u16(e.name.byteLength).u16(extra.byteLength).u16(0).u16(0).u16(0).u32(0)
        .u32(zip64 ? U32_MAX : e.offset).bytes(e.name).bytes(extra).finish());
    }
    const cdSize = this.at - cdStart;
    const count = this.entries.length;
    const zip64 = cdStart >= this.zip64Above || cdSize >= this.zip64Above || count >= 0xffff;
    if (zip64) {
      const record = this.at;
      await this.emit(new Fields()
        .u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(count).u64(count).u64(cdSize).u64(cdStart).finish());
      await this.emit(new Fields().u32(0x07064b50).u32(0).u64(record).u32(1).finish());
    }
    await this.emit(new Fields()
      .u32(0x06054b50).u16(0).u16(0).u16(zip64 ? 0xffff : count).u16(zip64 ? 0xffff : count)
      .u32(zip64 ? U32_MAX : cdSize).u32(zip64 ? U32_MAX : cdStart).u16(0).finish());
    return this.at;
  }

  private async entry(name: string, flags: number, crc: number, size: number, body: () => Promise<{ crc: number; size: number }>): Promise<void> {
    this.open(name);
    if (!name || name.startsWith('/') || name.split('/').includes('..')) throw new Error(`zip: "${name}" is not a relative file name`);
    if (this.names.has(name)) throw new Error(`zip: "${name}" is added twice`);
    this.names.add(name);
    const encoded = new TextEncoder().encode(name);
    const offset = this.at;
    this.busy = true;
    try {
      await this.emit(new Fields()
        .u32(0x04034b50).u16(20).u16(flags).u16(0).u16(this.stamp.time).u16(this.stamp.date)
        .u32(crc).u32(size).u32(size).u16(encoded.byteLength).u16(0).bytes(encoded).finish());
      const done = await body();
      this.entries.push({ name: encoded, flags, crc: done.crc, size: done.size, offset });
    } finally {
      this.busy = false;
    }
  }

  private open(what: string): void {
    if (this.ended) throw new Error(`zip: ${what} after the archive was ended`);
    if (this.busy) throw new Error(`zip: ${what} while another entry is being written`);
  }

  private checkSize(name: string, size: number): void {
    if (size >= U32_MAX) throw new RangeError(`zip: "${name}" reached 4 GiB; entries are kept below (shard the file)`);
  }

  private async emit(bytes: Uint8Array): Promise<void> {
    await this.sink(bytes);
    this.at += bytes.byteLength;
  }
}
