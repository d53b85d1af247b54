/**
 * bitsandbytes' 8-bit "dynamic" quantization, used here only for NF4 double quantization (the
 * per-block absmax values quantized again in blocks of 256).
 *
 * `createDynamicMap()` is bitsandbytes' `create_dynamic_map(signed=True, max_exponent_bits=7,
 * total_bits=8)`: for i = 0..6, take `2^i + 1` points `linspace(0.1, 1)` (float32), the midpoints of
 * neighbouring points ("means", 2^i of them), and add `±10^(i-6) * means`; then append 0 and 1.0
 * (127 positive + 127 negative + 2 = 256 values) and sort ascending. Arithmetic is float32 as torch
 * does it on the CPU (linspace from both ends as torch's scalar kernel does; the Python scalar
 * 10^(i-6) is rounded to float32 before the product). Torch's vectorised linspace may round a
 * few entries differently in the last bit; a checkpoint carries its own map, and dequantization
 * always uses the map stored with the tensor, so that cannot make a loaded model wrong.
 *
 * Blockwise quantization is the CPU path of bitsandbytes' `quantize_blockwise`: absmax per block,
 * `scaled = clamp(x * (1/absmax), -1, 1)` in float32, and the index of the nearest map value
 * (float32 distances, the first index on a tie; an all-zero block gives NaN and index 0).
 */
const f = Math.fround;

function linspaceF32(start: number, end: number, steps: number): number[] {
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const half = Math.floor(steps / 2);
  const out: number[] = [];
  for (let i = 0; i < steps; i++) out.push(i < half ? f(s + f(step * i)) : f(e - f(step * (steps - i - 1))));
  return out;
}

let cached: Float32Array | null = null;

/** The 256-entry signed dynamic map, ascending: code[0] = -0.99297, code[127] = 0, code[255] = 1. */
export function createDynamicMap(): Float32Array<ArrayBuffer> {
  if (cached) return cached.slice();
  const maxExp = 7;
  const data: number[] = [];
  for (let i = 0; i < maxExp; i++) {
    const b = linspaceF32(0.1, 1, 2 ** i + 1);
    const scale = f(10 ** (i - (maxExp - 1)));
    for (let j = 0; j + 1 < b.length; j++) {
      const mean = f(f(b[j] + b[j + 1]) / 2);
      data.push(f(scale * mean), -f(scale * mean));
    }
  }
  data.push(0, 1);
  if (data.length !== 256) throw new Error(`dynamic map has ${data.length} entries`);
  data.sort((a, b) => a - b);
  cached = Float32Array.from(data);
  return cached.slice();
}

/** Index of the nearest `code` value to `scaled` (float32 distances, first index on ties, NaN -> 0). */
export function nearestCode(code: Float32Array, scaled: number): number {
  let best = 0;
  let bestD = Infinity;
  for (let i = 0; i < code.length; i++) {
    const d = Math.abs(f(scaled - code[i]));
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

export interface Blockwise8 {
  /** (n) one code index per value */
  q: Uint8Array;
  /** (ceil(n / blocksize)) */
  absmax: Float32Array<ArrayBuffer>;
  blocksize: number;
}

export function quantizeBlockwise8(x: Float32Array, code: Float32Array, blocksize = 256): Blockwise8 {
  const nb = Math.ceil(x.length / blocksize);
  const q = new Uint8Array(x.length);
  const absmax = new Float32Array(nb);
  for (let b = 0; b < nb; b++) {
    const end = Math.min(x.length, (b + 1) * blocksize);
    let m = 0;
    for (let i = b * blocksize; i < end; i++) m = Math.max(m, Math.abs(x[i]));
    absmax[b] = m;
    const inv = f(1 / m); // Infinity for an all-zero block: 0 * Inf = NaN -> index 0, as bitsandbytes
    for (let i = b * blocksize; i < end; i++) {
      q[i] = nearestCode(code, Math.min(1, Math.max(-1, f(x[i] * inv))));
    }
  }
  return { q, absmax, blocksize };
}

export function dequantizeBlockwise8(b: Blockwise8, code: Float32Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(b.q.length);
  for (let i = 0; i < out.length; i++) out[i] = code[b.q[i]] * b.absmax[Math.floor(i / b.blocksize)];
  return out;
}
