/**
 * What shaders/quantize.wgsl computes, the plain way: a checkpoint tensor's bytes as the file stores
 * them (f32, f16 or bf16, little-endian) decoded to f32 exactly, then packed by the CPU packer
 * (`packWeight`) into a base weight's storage format. The GPU quantizer must give the same words and
 * absmax bit for bit, on any slice of a tensor that starts on a multiple of 4096 elements.
 */
import { bf16ArrayToF32, f16ArrayToF32 } from '../../core/half';
import { packWeight, type PackedWeight, type WeightFormat } from '../quant/packed';

/** The 16- and 32-bit float storages a checkpoint tensor can be quantized from on the GPU. */
export type RawFloat = 'f32' | 'f16' | 'bf16';

/** Bytes per element of each raw storage. */
export const RAW_BYTES: Record<RawFloat, number> = { f32: 4, f16: 2, bf16: 2 };

/** The values of little-endian raw bytes, exactly (every f16 and bf16 is an f32). */
export function decodeRaw(raw: RawFloat, bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength / RAW_BYTES[raw];
  if (!Number.isInteger(n)) throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${raw} elements`);
  const own = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice(); // typed views need aligned offsets
  if (raw === 'f32') return new Float32Array(own.buffer, own.byteOffset, n).slice();
  const halves = new Uint16Array(own.buffer, own.byteOffset, n);
  return raw === 'f16' ? f16ArrayToF32(halves) : bf16ArrayToF32(halves);
}

/** The packed weight the GPU quantizer must write for these raw elements. */
export function quantizeRaw(raw: RawFloat, bytes: Uint8Array, format: WeightFormat, opts: { doubleQuant?: boolean } = {}): PackedWeight {
  return packWeight(decodeRaw(raw, bytes), format, opts);
}
