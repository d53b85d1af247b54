/**
 * The export types a person picks and the ggml type each tensor gets under them, following
 * llama.cpp's own tools:
 *
 * - 1-D tensors (norms, biases, rope_freqs) stay F32: convert_hf_to_gguf.py keeps them F32 for
 *   every output type ("most of the codebase that takes in 1D tensors or norms only handles F32").
 * - f32 / f16: every matrix in that type (the converter's --outtype f32 / f16).
 * - q8_0: every matrix Q8_0, token embedding and output included (the converter's --outtype q8_0).
 * - q4_0: matrices Q4_0 (the token embedding too, as llama-quantize does), except the output head
 *   (output.weight, or token_embd when the head is tied to it), which is Q8_0: at least as precise
 *   as the Q6_K llama-quantize gives it, and its own choice when K blocks do not fit.
 * - q4_k_m: llama-quantize's Q4_K_M mix (llama_tensor_get_type in src/llama-quant.cpp, for a model
 *   without experts): matrices Q4_K; attn_v and ffn_down Q6_K in the layers where use_more_bits
 *   holds (the first and last eighth of the layers and every third one between, about half); the
 *   output head Q6_K, or Q8_0 when its rows are not whole 256-value super-blocks; the untied token
 *   embedding Q4_K. Then llama.cpp's fallbacks for rows that are not whole super-blocks
 *   (tensor_type_fallback): Q4_K -> Q5_0, Q6_K -> Q8_0, and F16 when not even 32-value blocks fit.
 * - A matrix whose rows are not whole 32-value blocks falls back to F16, as llama.cpp does.
 */
import type { WrittenGgmlType } from './constants';
import { BLOCK, LLAMA_FILE_TYPE } from './constants';
import { GgufExportError } from './errors';

export const GGUF_EXPORT_TYPES = ['f32', 'f16', 'q8_0', 'q4_0', 'q4_k_m'] as const;
export type GgufExportType = (typeof GGUF_EXPORT_TYPES)[number];

/** A --type value, checked; anything else is refused naming the supported types. */
export function parseGgufExportType(s: string): GgufExportType {
  const t = s.toLowerCase();
  if ((GGUF_EXPORT_TYPES as readonly string[]).includes(t)) return t as GgufExportType;
  throw new GgufExportError(`gguf: unknown type "${s}"; supported: ${GGUF_EXPORT_TYPES.join(', ')}`);
}

/** The ggml type of the mostly-used matrices; its LLAMA_FILE_TYPE is general.file_type (Q4_K: MOSTLY_Q4_K_M). */
export function fileTensorType(t: GgufExportType): WrittenGgmlType {
  return ({ f32: 'F32', f16: 'F16', q8_0: 'Q8_0', q4_0: 'Q4_0', q4_k_m: 'Q4_K' } as const)[t];
}

/** general.file_type (llama_ftype) of an export. */
export const llamaFileType = (t: GgufExportType): number => LLAMA_FILE_TYPE[fileTensorType(t)];

export interface TensorTypeChoice {
  type: WrittenGgmlType;
  /** Set when the tensor could not get the type asked for. */
  fallback?: string;
}

/** llama-quantize's use_more_bits: the layers whose attn_v and ffn_down get more bits in the _M mixes. */
export function useMoreBits(layer: number, layers: number): boolean {
  const eighth = Math.trunc(layers / 8);
  return layer < eighth || layer >= Math.trunc((7 * layers) / 8) || (layer - eighth) % 3 === 2;
}

/** The type llama-quantize's Q4_K_M mix asks for, before fallbacks. */
function q4KmType(name: string, dims: readonly number[], isHead: boolean, layers: number): WrittenGgmlType {
  if (isHead) return dims[0] % BLOCK.Q6_K.values !== 0 ? 'Q8_0' : 'Q6_K';
  const m = /^blk\.(\d+)\.(attn_v|ffn_down)\.weight$/.exec(name);
  if (m && useMoreBits(Number(m[1]), layers)) return 'Q6_K';
  return 'Q4_K';
}

/** tensor_type_fallback: a 256-value type on rows that are not whole super-blocks, then F16. */
const FALLBACK: Partial<Record<WrittenGgmlType, WrittenGgmlType>> = { Q4_K: 'Q5_0', Q6_K: 'Q8_0' };

/**
 * The ggml type of one tensor. `dims` are ggml's (innermost first); `isHead` when the tensor is the
 * output projection (output.weight, or token_embd for a tied head); `layers` the model's block
 * count (the Q4_K_M mix depends on the layer).
 */
export function tensorTypeFor(ggufName: string, dims: readonly number[], t: GgufExportType, isHead: boolean, layers = 1): TensorTypeChoice {
  if (dims.length === 1 || t === 'f32') return { type: 'F32' };
  if (t === 'f16') return { type: 'F16' };
  const want: WrittenGgmlType = t === 'q4_k_m' ? q4KmType(ggufName, dims, isHead, layers) : t === 'q8_0' || isHead ? 'Q8_0' : 'Q4_0';
  const fits = (type: WrittenGgmlType) => dims[0] % BLOCK[type].values === 0;
  if (fits(want)) return { type: want };
  const next = FALLBACK[want];
  if (next && fits(next)) {
    return { type: next, fallback: `${ggufName}: rows of ${dims[0]} values are not whole ${want} super-blocks of 256; written ${next}, as llama-quantize does` };
  }
  const blocks = BLOCK[want].values === 256 ? `${want} super-blocks of 256 or 32-value blocks` : `${want} blocks of 32`;
  return { type: 'F16', fallback: `${ggufName}: rows of ${dims[0]} values are not whole ${blocks}; written F16` };
}

/** Guard for callers that take the type from outside (the UI). */
export function isGgufExportType(s: string): s is GgufExportType {
  return (GGUF_EXPORT_TYPES as readonly string[]).includes(s);
}
