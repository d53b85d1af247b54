import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ByteSource } from '../../src/io/safetensors/byte-source';

export const GOLDEN = fileURLToPath(new URL('../fixtures/golden/', import.meta.url));
export const goldenPath = (rel: string): string => GOLDEN + rel;
export const goldenBytes = (rel: string): Uint8Array => new Uint8Array(readFileSync(goldenPath(rel)));

/** A file with a given header (no padding added) and `data` after it; `headerLen` can lie. */
export function rawFile(header: string | Uint8Array, data: Uint8Array | number = 0, headerLen?: number | bigint): Uint8Array {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.byteLength + d.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen ?? h.byteLength), true);
  out.set(h, 8);
  out.set(d, 8 + h.byteLength);
  return out;
}

/** Wraps a source and records every read, so tests can bound what a reader asked for. */
export function recording(src: ByteSource): ByteSource & { maxRead: number; total: number; reads: [number, number][] } {
  const rec = {
    size: src.size,
    maxRead: 0,
    total: 0,
    reads: [] as [number, number][],
    describe: () => src.describe(),
    read(offset: number, length: number) {
      rec.reads.push([offset, length]);
      rec.maxRead = Math.max(rec.maxRead, length);
      rec.total += length;
      return src.read(offset, length);
    },
  };
  return rec;
}

/** Deterministic PRNG (mulberry32) for generated data and fuzzing. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomF32(n: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}
