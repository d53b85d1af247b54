/**
 * The storage formats of a frozen base weight and their exact GPU layout: the contract between the
 * uploader (which calls `packWeight`) and the `matmul_weight` kernels (which decode it).
 *
 * A weight is the row-major flattened tensor (Hugging Face `[out, in]`), packed into u32 words:
 *   f32   1 value per word (its bits)
 *   f16   2 per word, element 2j in the low half          bf16 likewise
 *   int8  4 per word, byte k of word w = element 4w+k     + absmax f32 per block of 64
 *   nf4   8 per word: byte k = bits 8k.. of the word, element 2j in the high nibble of byte j
 *                                                        + absmax f32 per block of 64
 * NF4 with double quantization replaces the f32 absmax by `qabsmax` (u8, packed 4 per word) and a
 * `dq` f32 array [code[0..256), offset, absmax2[0..ceil(nblocks/256))].
 */
import { dequantizeInt8, quantizeInt8 } from './int8';
import { packHalf, unpackHalf } from './f16';
import { dequantizeAbsmax, dequantizeNf4, doubleQuantizeAbsmax, quantizeNf4, type Nf4DoubleQuant } from './nf4';
import { packBytes, unpackBytes } from './pack';

export type WeightFormat = 'f32' | 'f16' | 'bf16' | 'int8' | 'nf4';
export const WEIGHT_FORMATS: readonly WeightFormat[] = ['f32', 'f16', 'bf16', 'int8', 'nf4'];

/** Elements per u32 word of each format. */
export const ELEMENTS_PER_WORD: Record<WeightFormat, number> = { f32: 1, f16: 2, bf16: 2, int8: 4, nf4: 8 };

export interface PackedWeight {
  format: WeightFormat;
  numel: number;
  /** (ceil(numel / ELEMENTS_PER_WORD[format])) */
  words: Uint32Array<ArrayBuffer>;
  /** (ceil(numel/64)) int8 and nf4 without double quantization */
  absmax?: Float32Array<ArrayBuffer>;
  /** nf4 with double quantization */
  doubleQuant?: { qabsmax: Uint32Array<ArrayBuffer>; dq: Float32Array<ArrayBuffer>; state: Nf4DoubleQuant };
}

export function packWeight(x: Float32Array, format: WeightFormat, opts: { doubleQuant?: boolean } = {}): PackedWeight {
  const numel = x.length;
  switch (format) {
    case 'f32':
      return { format, numel, words: new Uint32Array(Float32Array.from(x).buffer) };
    case 'f16':
    case 'bf16':
      return { format, numel, words: packHalf(x, format) };
    case 'int8': {
      const t = quantizeInt8(x);
      return { format, numel, words: packBytes(new Uint8Array(t.q.buffer)), absmax: t.absmax };
    }
    case 'nf4': {
      const t = quantizeNf4(x);
      const words = packBytes(t.codes);
      if (!opts.doubleQuant) return { format, numel, words, absmax: t.absmax };
      return { format, numel, words, doubleQuant: packDoubleQuant(t.absmax) };
    }
  }
}

/** NF4 double quantization of a tensor's absmax values, in the GPU layout (qabsmax words, dq array). */
export function packDoubleQuant(absmax: Float32Array): NonNullable<PackedWeight['doubleQuant']> {
  const state = doubleQuantizeAbsmax(absmax);
  const dq = new Float32Array(257 + state.absmax2.length);
  dq.set(state.code, 0);
  dq[256] = state.offset;
  dq.set(state.absmax2, 257);
  return { qabsmax: packBytes(state.qabsmax), dq, state };
}

/** The values the GPU kernels compute with (the dequantized weight), as float32. */
export function unpackWeight(p: PackedWeight): Float32Array<ArrayBuffer> {
  const n = p.numel;
  switch (p.format) {
    case 'f32':
      return new Float32Array(p.words.buffer.slice(p.words.byteOffset, p.words.byteOffset + 4 * n));
    case 'f16':
    case 'bf16':
      return unpackHalf(p.words, n, p.format);
    case 'int8':
      return dequantizeInt8({ numel: n, q: new Int8Array(unpackBytes(p.words, n).buffer), absmax: p.absmax! });
    case 'nf4': {
      const codes = unpackBytes(p.words, Math.ceil(n / 2));
      const absmax = p.doubleQuant ? dequantizeAbsmax(p.doubleQuant.state) : p.absmax!;
      return dequantizeNf4({ numel: n, codes, absmax });
    }
  }
}
