import { BadFileError } from '../../core/errors';
import type { ByteSource } from './byte-source';
import { decodeToF32 } from './decode';
import { DTYPE_BYTES } from './dtypes';
import { parseHeader, type TensorInfo } from './header';

export interface SafetensorsFile {
  readonly metadata: Record<string, string>;
  /** In file order (sorted by offset). */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  names(): string[];
  has(name: string): boolean;
  /** Throws BadFileError naming the tensor when it is absent. */
  info(name: string): TensorInfo;
  /**
   * Exactly the tensor's bytes, in a buffer of their own (offset 0), so any typed view works; with
   * `range`, only elements [start, start + count) of the flattened tensor (rows of a big table).
   */
  readRaw(name: string, range?: ElementRange): Promise<Uint8Array>;
  /** The tensor as f32, converted from any float or integer dtype (little-endian). */
  readF32(name: string): Promise<Float32Array>;
}

/** Elements [start, start + count) of a flattened tensor. */
export interface ElementRange {
  start: number;
  count: number;
}

export interface OpenOptions {
  /** Refuse larger headers; default 100 MiB (Hugging Face's limit is 100 MB). */
  maxHeaderBytes?: number;
}

const DEFAULT_MAX_HEADER = 100 * 1024 * 1024;

/**
 * Reads the 8-byte header length and the header, validates them, and returns a handle that reads
 * tensors on demand. Nothing is allocated from an untrusted length before it is checked against
 * the file size.
 */
export async function openSafetensors(source: ByteSource, opts: OpenOptions = {}): Promise<SafetensorsFile> {
  const file = source.describe();
  const maxHeader = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER;
  if (source.size < 8) {
    throw new BadFileError(file, `file is too short (${source.size} bytes) to hold the 8-byte header length; it is not a safetensors file`);
  }
  const prefix = await source.read(0, 8);
  // u64 little-endian; read as two u32 so a huge value stays exact enough to compare.
  const dv = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const headerLen = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  if (headerLen === 0) throw new BadFileError(file, 'header length is 0; this is not a safetensors file');
  if (headerLen > source.size - 8) {
    throw new BadFileError(
      file,
      `header length ${headerLen} runs past the end of the file (${source.size} bytes); the file is truncated or not safetensors`,
    );
  }
  if (headerLen > maxHeader) {
    throw new BadFileError(file, `header length ${headerLen} exceeds the limit of ${maxHeader} bytes (maxHeaderBytes)`);
  }
  const headerBytes = await source.read(8, headerLen);
  const dataStart = 8 + headerLen;
  const { metadata, tensors } = parseHeader(file, headerBytes, source.size - dataStart);

  const info = (name: string): TensorInfo => {
    const t = tensors.get(name);
    if (!t) throw new BadFileError(file, `has no tensor named "${name}"`);
    return t;
  };
  const readRaw = async (name: string, range?: ElementRange): Promise<Uint8Array> => {
    const t = info(name);
    let begin = t.begin;
    let end = t.end;
    if (range) {
      const item = DTYPE_BYTES[t.dtype];
      const numel = (t.end - t.begin) / item;
      if (!(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.count) && range.start >= 0 && range.count >= 0 && range.start + range.count <= numel)) {
        throw new RangeError(`${file}: elements [${range.start}, ${range.start + range.count}) are outside tensor "${name}" of ${numel}`);
      }
      begin = t.begin + range.start * item;
      end = begin + range.count * item;
    }
    const bytes = await source.read(dataStart + begin, end - begin);
    if (bytes.byteLength !== end - begin) {
      throw new BadFileError(file, `short read of tensor "${name}" (${bytes.byteLength} of ${end - begin} bytes)`);
    }
    // Own the bytes: sources may return views into shared or oddly aligned memory.
    // (A Node Buffer's slice() is a view, so copy explicitly.)
    if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength && bytes.constructor === Uint8Array) return bytes;
    const own = new Uint8Array(bytes.byteLength);
    own.set(bytes);
    return own;
  };

  return {
    metadata,
    tensors,
    names: () => [...tensors.keys()],
    has: (name) => tensors.has(name),
    info,
    readRaw,
    readF32: async (name) => decodeToF32(info(name).dtype, await readRaw(name)),
  };
}
