/**
 * The export types a person picks and the ggml type each tensor gets under them, following
 * llama.cpp's own tools:
 *
 * - 1-D tensors (norms, biases, rope_freqs) stay F32: convert_hf_to_gguf.py keeps them F32 for
 *   every output type ("most of the codebase that takes in 1D tensors or norms only handles F32").
 * - f32 / f16: every matrix in that type (the converter's --outtype f32 / f16).
 * - q8_0: every matrix Q8_0, token embedding and output included (the converter's --outtype q8_0).
 * - q4_0: matrices Q4_0 (the token embedding too, as llama-quantize does), except the output head
 *   (output.weight, or token_embd when the head is tied to it): llama-quantize gives the head Q6_K,
 *   a K-quant this exporter does not write, and Q8_0 is llama-quantize's own choice for the head when
 *   K blocks do not fit; it keeps the head at least as precise as llama.cpp's file.
 * - A matrix whose rows are not whole 32-value blocks falls back to F16, as the converter does when
 *   a row cannot be quantized.
 * Q4_K_M is not written: it is refused with the list of supported types.
 */
import type { WrittenGgmlType } from './constants';
import { GgufExportError } from './errors';

export const GGUF_EXPORT_TYPES = ['f32', 'f16', 'q8_0', 'q4_0'] as const;
export type GgufExportType = (typeof GGUF_EXPORT_TYPES)[number];

/** A --type value, checked; Q4_K_M and anything else are refused naming the supported types. */
export function parseGgufExportType(s: string): GgufExportType {
  const t = s.toLowerCase();
  if ((GGUF_EXPORT_TYPES as readonly string[]).includes(t)) return t as GgufExportType;
  const supported = GGUF_EXPORT_TYPES.join(', ');
  if (t === 'q4_k_m' || t === 'q4_k' || t === 'q4_k_s') {
    throw new GgufExportError(`gguf: type "${s}" (K-quants) is not written by this exporter yet; supported: ${supported}. ` +
      'For Q4_K_M, export f16 and run llama.cpp\'s llama-quantize model-f16.gguf model-q4_k_m.gguf Q4_K_M');
  }
  throw new GgufExportError(`gguf: unknown type "${s}"; supported: ${supported}`);
}

/** The ggml type of the mostly-used matrices, for general.file_type. */
export function fileTensorType(t: GgufExportType): WrittenGgmlType {
  return ({ f32: 'F32', f16: 'F16', q8_0: 'Q8_0', q4_0: 'Q4_0' } as const)[t];
}

export interface TensorTypeChoice {
  type: WrittenGgmlType;
  /** Set when the tensor could not get the type asked for. */
  fallback?: string;
}

/**
 * The ggml type of one tensor. `dims` are ggml's (innermost first); `isHead` when the tensor is the
 * output projection (output.weight, or token_embd for a tied head).
 */
export function tensorTypeFor(ggufName: string, dims: readonly number[], t: GgufExportType, isHead: boolean): TensorTypeChoice {
  if (dims.length === 1 || t === 'f32') return { type: 'F32' };
  if (t === 'f16') return { type: 'F16' };
  const want: WrittenGgmlType = t === 'q8_0' || isHead ? 'Q8_0' : 'Q4_0';
  if (dims[0] % 32 !== 0) {
    return { type: 'F16', fallback: `${ggufName}: rows of ${dims[0]} values are not whole ${want} blocks of 32; written F16` };
  }
  return { type: want };
}

/** Guard for callers that take the type from outside (the UI). */
export function isGgufExportType(s: string): s is GgufExportType {
  return (GGUF_EXPORT_TYPES as readonly string[]).includes(s);
}
