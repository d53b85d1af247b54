/**
 * The safetensors dtypes we read and write and their sizes (the 16-bit float conversions are in
 * src/core/half.ts).
 */
export const DTYPES = [
  'F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2',
  'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL',
] as const;
export type Dtype = (typeof DTYPES)[number];

/** Bytes per element. */
export const DTYPE_BYTES: Record<Dtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E4M3: 1, F8_E5M2: 1,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

const DTYPE_SET: ReadonlySet<string> = new Set(DTYPES);
export function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && DTYPE_SET.has(s);
}
