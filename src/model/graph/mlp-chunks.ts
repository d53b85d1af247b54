/**
 * Token-row chunks of the MLP block. The MLP's (N, F) buffers (gate, up, their product, the
 * gradients of the three, a LoRA dropout scratch or DoRA scratch of width F, their bf16 copies)
 * are the widest activations of a decoder: N = micro-batch x sequence length tokens times the
 * intermediate size F (Llama-3-8B at 1 x 4096 tokens: 235 MB f32). When one would not fit a binding,
 * the MLP (post-attention norm output -> gate/up -> gated activation -> down, and its backward) runs
 * over row ranges [n0, n0 + rows) of the tokens, each with its own (rows, F) buffers; the (N, C)
 * inputs and outputs and the (N, r) LoRA hiddens are bound as row ranges of the whole buffers.
 * Every MLP op is per row but the weight gradients (LoRA dA, dB, DoRA's dm, full finetuning's dW),
 * which accumulate anyway, so chunk by chunk they simply add up.
 */
import type { BufferRef } from '../../engine/kernels/common';
import { shiftRef } from '../../engine/kernels/common';
import type { ModuleName } from '../../config/lora-targets';

/** [n0, rows] of one chunk of the token rows. */
export type RowRange = [n0: number, rows: number];

/** The modules that run inside the MLP's token-row chunks. */
export const MLP_MODULES: readonly ModuleName[] = ['gate_proj', 'up_proj', 'down_proj'];

/**
 * Byte alignment of a row range's offset: the largest minStorageBufferOffsetAlignment WebGPU
 * allows (every device's alignment divides it), so a plan made here holds on any device.
 */
const OFFSET_ALIGN = 256;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The least row count g such that every row offset that is a multiple of g binds aligned: g * w
 * f32 values of every row-range width w are a multiple of 256 bytes, and g * F values a whole
 * number of dropout RNG blocks (4 elements) for the down projection's input.
 */
export function rowGranule(F: number, rowWidths: readonly number[]): number {
  const words = OFFSET_ALIGN / 4;
  let g = 4 / gcd(4, F);
  for (const w of rowWidths) {
    const need = words / gcd(words, w);
    g = (g * need) / gcd(g, need);
  }
  return g;
}

/**
 * The chunks of N token rows for an MLP of width F: one chunk [0, N] when (N, F) f32 fits
 * `maxBindingBytes` (the graph is then exactly the unchunked one), else as many rows per chunk as
 * fit, a multiple of rowGranule (at least one granule: a device too small even for that is left to
 * the plan's fit check). `rowWidths`: the widths of the (N, w) buffers bound as row ranges (C and the
 * LoRA ranks of the MLP modules).
 */
export function mlpRowChunks(N: number, F: number, maxBindingBytes: number, rowWidths: readonly number[]): RowRange[] {
  if (4 * N * F <= maxBindingBytes) return [[0, N]];
  const g = rowGranule(F, rowWidths);
  const rows = Math.max(g, Math.floor(maxBindingBytes / (4 * F) / g) * g);
  const out: RowRange[] = [];
  for (let n0 = 0; n0 < N; n0 += rows) out.push([n0, Math.min(rows, N - n0)]);
  return out;
}

/** The most rows of any chunk. */
export const chunkRows = (chunks: readonly RowRange[]): number => Math.max(...chunks.map(([, rows]) => rows));

/** Rows [n0, ...) of an (N, width) f32 buffer. */
export const rowsFrom = (ref: BufferRef, n0: number, width: number): BufferRef => shiftRef(ref, 4 * n0 * width);

/** A label's suffix naming the chunk when there are several (none for the one chunk: labels as unchunked). */
export const chunkLabel = (chunks: readonly RowRange[], [n0, rows]: RowRange): string =>
  chunks.length > 1 ? ` rows [${n0}:${n0 + rows}]` : '';
