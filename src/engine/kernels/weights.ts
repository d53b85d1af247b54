/**
 * A frozen base weight on the GPU in one of the storage formats of src/reference/quant/packed.ts,
 * and its upload. The buffers are exactly the packed arrays (no padding beyond the pool's 4-byte
 * rounding), so `weightBufferBytes` lets a memory plan predict the ledger.
 */
import type { Engine } from '../context';
import { refBuffer, type BufferRef } from './common';
import { uploadBuffer } from '../upload';
import { ELEMENTS_PER_WORD, type PackedWeight, type WeightFormat } from '../../reference/quant/packed';
import { nf4Bytes } from '../../reference/quant/nf4';

export interface GpuWeight {
  format: WeightFormat;
  /** N, the output features ([out, in] layout) */
  rows: number;
  /** K, the input features */
  cols: number;
  /** (ceil(rows*cols / ELEMENTS_PER_WORD[format])) u32; may be a view into a larger buffer (a tied head's rows of the embedding) */
  words: BufferRef;
  /** (ceil(rows*cols / 64)) f32; int8, and nf4 without double quantization */
  absmax?: GPUBuffer;
  /** nf4 double quantization: (ceil(nblocks/4)) u32 of u8 indices, and [code (256), offset, absmax2 ...] f32 */
  qabsmax?: GPUBuffer;
  dq?: GPUBuffer;
}

/**
 * A base weight (rows, cols) kept as row shards, each its own packed weight that fits one binding:
 * shard i holds rows [r0, r0 + weight.rows). Every r0 is a multiple of 64 (so views of a shard's
 * outputs start on 256-byte boundaries, and NF4 / int8 blocks of 64 never straddle two shards).
 */
export interface ShardedWeight {
  format: WeightFormat;
  rows: number;
  cols: number;
  shards: { r0: number; weight: GpuWeight }[];
}

/**
 * [r0, rows] of the row shards of a (rows, cols) weight whose every buffer must fit `maxBindingBytes`:
 * one shard when the whole weight fits, else shards of the most rows (a multiple of 64) that fit.
 */
export function rowShardRanges(format: WeightFormat, rows: number, cols: number, maxBindingBytes: number, opts: { doubleQuant?: boolean } = {}): [number, number][] {
  const fits = (r: number) => Math.max(...weightBufferBytes(format, r, cols, opts)) <= maxBindingBytes;
  if (fits(rows)) return [[0, rows]];
  let per = Math.floor(maxBindingBytes / Math.max(1, weightBufferBytes(format, 64, cols, opts)[0] / 64) / 64) * 64;
  while (per >= 64 && !fits(per)) per -= 64;
  if (per < 64) {
    throw new RangeError(`a ${format} weight (${rows}, ${cols}) cannot be cut into row shards that fit one GPU binding of ` +
      `${maxBindingBytes} bytes (64 rows need ${Math.max(...weightBufferBytes(format, 64, cols, opts))}); use a smaller base precision (nf4, int8)`);
  }
  const out: [number, number][] = [];
  for (let r0 = 0; r0 < rows; r0 += per) out.push([r0, Math.min(per, rows - r0)]);
  return out;
}

/** Requested bytes of each buffer of a weight (the pool allocates alignedSize of each). */
export function weightBufferBytes(format: WeightFormat, rows: number, cols: number, opts: { doubleQuant?: boolean } = {}): number[] {
  const numel = rows * cols;
  switch (format) {
    case 'f32': case 'f16': case 'bf16':
      return [4 * Math.ceil(numel / ELEMENTS_PER_WORD[format])];
    case 'int8':
      return [4 * Math.ceil(numel / 4), 4 * Math.ceil(numel / 64)];
    case 'nf4': {
      const b = nf4Bytes(numel, !!opts.doubleQuant);
      const words = 4 * Math.ceil(numel / 8); // codes (ceil(numel/2) bytes) rounded up to whole words
      return opts.doubleQuant ? [words, 4 * Math.ceil(b.absmax / 4), b.dq] : [words, b.absmax];
    }
  }
}

export async function uploadWeight(engine: Engine, p: PackedWeight, rows: number, cols: number, label: string): Promise<GpuWeight> {
  if (rows * cols !== p.numel) throw new RangeError(`${label}: ${rows}x${cols} does not match ${p.numel} packed elements`);
  const up = (data: ArrayBufferView, part: string) => uploadBuffer(engine.pool, data, { category: 'weights', label: `${label}.${part}` });
  const w: GpuWeight = { format: p.format, rows, cols, words: await up(p.words, p.format) };
  if (p.absmax) w.absmax = await up(p.absmax, 'absmax');
  if (p.doubleQuant) {
    w.qabsmax = await up(p.doubleQuant.qabsmax, 'qabsmax');
    w.dq = await up(p.doubleQuant.dq, 'dq');
  }
  if ((p.format === 'int8' || p.format === 'nf4') && !w.absmax && !w.qabsmax) {
    throw new RangeError(`${label}: ${p.format} weight without absmax`);
  }
  return w;
}

export function destroyWeight(engine: Engine, w: GpuWeight): void {
  for (const b of [w.words, w.absmax, w.qabsmax, w.dq]) if (b) engine.pool.destroy(refBuffer(b));
}
