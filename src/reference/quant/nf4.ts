/**
 * NF4 (4-bit NormalFloat) exactly as bitsandbytes quantizes it (`quantize_4bit`, quant_type nf4).
 *
 * - Blocks of 64 consecutive elements of the row-major flattened tensor; the last block may be short.
 * - absmax[b] = max |x| over block b (float32).
 * - code = index of the NF4_CODEBOOK value nearest to `x * (1/absmax)` (float32 arithmetic and
 *   distances, clamped to [-1, 1], the lower index on a tie). An all-zero block has absmax 0, so the
 *   scaled value is NaN and bitsandbytes stores code 0 (the value -1.0); it dequantizes to -0.0.
 * - Bytes: element 2j in the high nibble and 2j+1 in the low nibble of byte j; an odd element count
 *   pads a 0 low nibble. ceil(n/2) bytes.
 * - dequant = NF4_CODEBOOK[code] * absmax[block] (one float32 product, so the GPU can match it bit for bit).
 *
 * GPU layout (see `packWeight` in ./packed): the code bytes packed little-endian into u32 words
 * (byte k = bits 8*(k%4).. of word k/4), so element e is nibble `e%8` of word e/8 in the order
 * byte0.hi, byte0.lo, byte1.hi, ..., and one f32 absmax per block.
 *
 * Double quantization (bitsandbytes `compress_statistics=True`): offset = mean(absmax);
 * (absmax - offset) quantized with `quantizeBlockwise8` (blocks of 256, the signed dynamic map);
 * absmax is recovered as `code8[q] * absmax2[b/256] + offset`.
 */
import { createDynamicMap, dequantizeBlockwise8, quantizeBlockwise8 } from './dynamic-map';

export const NF4_BLOCK = 64;
export const NF4_DQ_BLOCK = 256;

/** The 16 NF4 values (bitsandbytes' table, as float32). */
export const NF4_CODEBOOK = Float32Array.of(
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
  -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
);

/** Code bitsandbytes stores for every element of an all-zero block (NaN scaled value -> index 0). */
export const NF4_ZERO_BLOCK_CODE = 0;

export interface Nf4Tensor {
  numel: number;
  /** (ceil(numel/2)) two codes per byte, even element in the high nibble */
  codes: Uint8Array;
  /** (ceil(numel/64)) */
  absmax: Float32Array<ArrayBuffer>;
}

export interface Nf4DoubleQuant {
  /** (ceil(numel/64)) 8-bit index into `code` per block */
  qabsmax: Uint8Array;
  /** (ceil(nblocks/256)) absmax of (absmax - offset) per block of 256 */
  absmax2: Float32Array<ArrayBuffer>;
  /** (256) the signed dynamic map */
  code: Float32Array<ArrayBuffer>;
  /** mean of the original absmax */
  offset: number;
}

const f = Math.fround;

/** Nearest NF4 index for a scaled value, as bitsandbytes (NaN -> 0). */
export function nf4Code(scaled: number): number {
  const s = Math.min(1, Math.max(-1, scaled));
  let best = 0;
  let bestD = Infinity;
  for (let i = 0; i < 16; i++) {
    const d = Math.abs(f(s - NF4_CODEBOOK[i]));
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

export function nf4Blocks(numel: number): number {
  return Math.ceil(numel / NF4_BLOCK);
}

export function quantizeNf4(x: Float32Array): Nf4Tensor {
  const n = x.length;
  const absmax = new Float32Array(nf4Blocks(n));
  const codes = new Uint8Array(Math.ceil(n / 2));
  for (let b = 0; b < absmax.length; b++) {
    const start = b * NF4_BLOCK;
    const end = Math.min(n, start + NF4_BLOCK);
    let m = 0;
    for (let i = start; i < end; i++) m = Math.max(m, Math.abs(x[i]));
    absmax[b] = m;
    const inv = f(1 / m);
    for (let i = start; i < end; i++) {
      const c = nf4Code(f(x[i] * inv));
      codes[i >>> 1] |= i & 1 ? c : c << 4;
    }
  }
  return { numel: n, codes, absmax };
}

/** The code of element i. */
export function nf4CodeAt(codes: Uint8Array, i: number): number {
  const byte = codes[i >>> 1];
  return i & 1 ? byte & 15 : byte >>> 4;
}

export function dequantizeNf4(
  t: { numel: number; codes: Uint8Array; absmax: Float32Array }, absmax: Float32Array = t.absmax,
): Float32Array<ArrayBuffer> {
  const out = new Float32Array(t.numel);
  for (let i = 0; i < t.numel; i++) out[i] = NF4_CODEBOOK[nf4CodeAt(t.codes, i)] * absmax[Math.floor(i / NF4_BLOCK)];
  return out;
}

export function doubleQuantizeAbsmax(absmax: Float32Array): Nf4DoubleQuant {
  let sum = 0;
  for (const v of absmax) sum += v;
  const offset = f(sum / absmax.length); // torch sums in float32 (cascade): may differ in the last bit
  const centered = new Float32Array(absmax.length);
  for (let i = 0; i < absmax.length; i++) centered[i] = absmax[i] - offset;
  const code = createDynamicMap();
  const { q, absmax: absmax2 } = quantizeBlockwise8(centered, code, NF4_DQ_BLOCK);
  return { qabsmax: q, absmax2, code, offset };
}

/** The absmax values double quantization gives back: f32(f32(code[q] * absmax2) + offset). */
export function dequantizeAbsmax(dq: Nf4DoubleQuant): Float32Array<ArrayBuffer> {
  const out = dequantizeBlockwise8({ q: dq.qabsmax, absmax: dq.absmax2, blocksize: NF4_DQ_BLOCK }, dq.code);
  for (let i = 0; i < out.length; i++) out[i] = out[i] + dq.offset;
  return out;
}

/** Bytes of each part of an NF4 tensor of `numel` elements, as stored on the GPU before 4-byte rounding. */
export function nf4Bytes(numel: number, doubleQuant: boolean): { codes: number; absmax: number; dq: number } {
  const nb = nf4Blocks(numel);
  if (!doubleQuant) return { codes: Math.ceil(numel / 2), absmax: 4 * nb, dq: 0 };
  // dq: the 256-entry map, the offset, then one f32 per block of 256 absmax values (see packWeight)
  return { codes: Math.ceil(numel / 2), absmax: nb, dq: 4 * (256 + 1 + Math.ceil(nb / NF4_DQ_BLOCK)) };
}

/**
 * Asymptotic bytes per parameter (large tensors): 0.5 + 4/64 = 0.5625 without double quantization,
 * 0.5 + 1/64 + 4/(64*256) ~ 0.51587 with it (about 0.373 bits per parameter saved).
 */
export function nf4BytesPerParam(doubleQuant: boolean): number {
  return doubleQuant ? 0.5 + 1 / NF4_BLOCK + 4 / (NF4_BLOCK * NF4_DQ_BLOCK) : 0.5 + 4 / NF4_BLOCK;
}
