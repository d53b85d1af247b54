/**
 * The numbers of the GGUF format (version 3) and of ggml's tensor types, as the GGUF specification
 * (ggml/docs/gguf.md) and ggml.h / llama.h define them. Only the types this project writes or
 * reads are listed.
 */

/** "GGUF" as the four bytes at the start of every file (0x47 0x47 0x55 0x46). */
export const GGUF_MAGIC = 0x46554747; // little-endian u32 of "GGUF"
export const GGUF_VERSION = 3;
/** Alignment of the tensor data when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_QNT_VERSION, written as general.quantization_version. */
export const GGML_QUANTIZATION_VERSION = 2;

/** The type tag of a metadata value (gguf_type). */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueTypeId = (typeof GgufValueType)[keyof typeof GgufValueType];

/** ggml_type of a tensor. */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  BF16: 30,
} as const;
export type GgmlTypeId = (typeof GgmlType)[keyof typeof GgmlType];

/** The tensor types this project writes. */
export type WrittenGgmlType = 'F32' | 'F16' | 'Q8_0' | 'Q4_0' | 'Q5_0' | 'Q4_K' | 'Q6_K';

/** Values per block and bytes per block of each written type (ggml's type traits). */
export const BLOCK: Record<WrittenGgmlType, { values: number; bytes: number }> = {
  F32: { values: 1, bytes: 4 },
  F16: { values: 1, bytes: 2 },
  /** block_q8_0: f16 d, int8 qs[32] */
  Q8_0: { values: 32, bytes: 34 },
  /** block_q4_0: f16 d, uint8 qs[16] (two 4-bit values each) */
  Q4_0: { values: 32, bytes: 18 },
  /** block_q5_0: f16 d, uint8 qh[4] (the fifth bits), uint8 qs[16] */
  Q5_0: { values: 32, bytes: 22 },
  /** block_q4_K: f16 d, f16 dmin, uint8 scales[12], uint8 qs[128] */
  Q4_K: { values: 256, bytes: 144 },
  /** block_q6_K: uint8 ql[128], uint8 qh[64], int8 scales[16], f16 d */
  Q6_K: { values: 256, bytes: 210 },
};

/** Bytes of a tensor whose innermost dimension is `dims[0]` (a multiple of the block size). */
export function tensorBytes(type: WrittenGgmlType, dims: readonly number[]): number {
  const { values, bytes } = BLOCK[type];
  if (dims[0] % values !== 0) throw new RangeError(`gguf: a ${type} tensor needs rows of a multiple of ${values} values, got ${dims[0]}`);
  const n = dims.reduce((a, b) => a * b, 1);
  return (n / values) * bytes;
}

/**
 * llama_ftype, written as general.file_type: what most of the file's weights are
 * (LLAMA_FTYPE_ALL_F32, MOSTLY_F16, MOSTLY_Q4_0, MOSTLY_Q8_0, MOSTLY_Q5_0, and for K blocks the
 * mixes this project writes: MOSTLY_Q4_K_M, MOSTLY_Q6_K).
 */
export const LLAMA_FILE_TYPE: Record<WrittenGgmlType, number> = { F32: 0, F16: 1, Q4_0: 2, Q8_0: 7, Q5_0: 8, Q4_K: 15, Q6_K: 18 };

/** llama_token_type, written per token in tokenizer.ggml.token_type. */
export const TokenType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
