/**
 * A GGUF v3 file written tensor by tensor. The header (magic, version, counts, metadata, tensor
 * infos) is computed up front from the metadata and the tensors' names, types and dimensions
 * alone, then each tensor's bytes go to the sink in header order, each padded with zeros to the
 * alignment. No tensor needs to be in memory before it is written; runs in the browser and Node.
 *
 * Layout (little-endian):
 *   u32 magic "GGUF", u32 version 3, u64 tensor_count, u64 metadata_kv_count,
 *   metadata_kv_count x (gguf_string key, u32 value type, value),
 *   tensor_count x (gguf_string name, u32 n_dims, u64 dims[n_dims], u32 ggml_type, u64 offset),
 *   zero padding to `alignment`, then the tensor data: tensor i at data start + offset_i, every
 *   offset a multiple of the alignment.
 * dims are ggml's ne: dims[0] is the innermost (contiguous) dimension, so a Hugging Face weight of
 * shape [out, in] is written with dims [in, out] and the same row-major bytes.
 */
import type { ByteSink } from '../safetensors/stream';
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, GgmlType, tensorBytes, type WrittenGgmlType } from './constants';
import { ByteWriter, writeKv, type GgufKv } from './metadata';

export type { ByteSink } from '../safetensors/stream';

export interface GgufTensorInfo {
  name: string;
  type: WrittenGgmlType;
  /** ggml's ne, innermost first: [in, out] for a Hugging Face [out, in] weight. */
  dims: readonly number[];
}

export interface GgufLayout {
  /** Everything before the tensor data, padding included. */
  header: Uint8Array;
  /** Bytes of each tensor (unpadded), in order. */
  sizes: number[];
  /** Offset of each tensor from the start of the data section. */
  offsets: number[];
  alignment: number;
  totalBytes: number;
}

const pad = (n: number, alignment: number) => Math.ceil(n / alignment) * alignment;

/** The alignment a metadata list asks for (general.alignment), checked; 32 when absent. */
export function alignmentOf(metadata: readonly GgufKv[]): number {
  const kv = metadata.find((m) => m.key === 'general.alignment');
  if (!kv) return GGUF_DEFAULT_ALIGNMENT;
  const a = kv.value.value;
  if (kv.value.type !== 'u32' || typeof a !== 'number' || a <= 0 || (a & (a - 1)) !== 0) {
    throw new RangeError(`gguf: general.alignment must be a u32 power of two, got ${String(a)}`);
  }
  return a;
}

export function ggufLayout(metadata: readonly GgufKv[], tensors: readonly GgufTensorInfo[]): GgufLayout {
  const alignment = alignmentOf(metadata);
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(metadata.length);
  const keys = new Set<string>();
  for (const m of metadata) {
    if (keys.has(m.key)) throw new RangeError(`gguf: metadata key "${m.key}" appears twice`);
    keys.add(m.key);
    writeKv(w, m);
  }
  const names = new Set<string>();
  const sizes: number[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (!t.name || new TextEncoder().encode(t.name).byteLength > 63) throw new RangeError(`gguf: tensor name "${t.name}" must be 1 to 63 bytes (GGML_MAX_NAME)`);
    if (names.has(t.name)) throw new RangeError(`gguf: tensor "${t.name}" appears twice`);
    names.add(t.name);
    if (t.dims.length < 1 || t.dims.length > 4 || !t.dims.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw new RangeError(`gguf: tensor "${t.name}" has dims [${t.dims.join(', ')}]; 1 to 4 positive sizes`);
    }
    const size = tensorBytes(t.type, t.dims);
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(GgmlType[t.type]);
    w.u64(offset);
    sizes.push(size);
    offsets.push(offset);
    offset += pad(size, alignment);
  }
  w.zeros(pad(w.length, alignment) - w.length);
  const header = w.finish();
  return { header, sizes, offsets, alignment, totalBytes: header.byteLength + offset };
}

/** Writes the header at `start`, then each tensor in order (padded); `end` checks that none is missing. */
export class GgufStream {
  readonly layout: GgufLayout;
  private next = 0;
  private started = false;
  private written = 0;

  constructor(metadata: readonly GgufKv[], private readonly tensors: readonly GgufTensorInfo[], private readonly sink: ByteSink) {
    this.layout = ggufLayout(metadata, tensors);
  }

  /** Bytes handed to the sink so far. */
  get bytesWritten(): number {
    return this.written;
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('gguf stream: started twice');
    this.started = true;
    await this.emit(this.layout.header);
  }

  /** The bytes of the next tensor in header order (exactly its size, unpadded). */
  async write(name: string, data: ArrayBufferView): Promise<void> {
    if (!this.started) throw new Error('gguf stream: write before start');
    const t = this.tensors[this.next];
    if (!t) throw new Error(`gguf stream: tensor "${name}" is one more than the header lists`);
    if (t.name !== name) throw new Error(`gguf stream: tensor "${name}" written where the header expects "${t.name}"`);
    const want = this.layout.sizes[this.next];
    if (data.byteLength !== want) throw new Error(`gguf stream: tensor "${name}" has ${data.byteLength} bytes, the header says ${want} (${t.type} [${t.dims.join(', ')}])`);
    this.next++;
    await this.emit(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const padding = pad(want, this.layout.alignment) - want;
    if (padding) await this.emit(new Uint8Array(padding));
  }

  end(): void {
    if (this.next !== this.tensors.length) {
      throw new Error(`gguf stream: ${this.tensors.length - this.next} tensors were not written (next: "${this.tensors[this.next].name}")`);
    }
  }

  private async emit(chunk: Uint8Array): Promise<void> {
    await this.sink(chunk);
    this.written += chunk.byteLength;
  }
}

/** A whole GGUF in memory (small files: tests, tiny adapters). */
export async function writeGgufToBytes(metadata: readonly GgufKv[], tensors: readonly (GgufTensorInfo & { data: ArrayBufferView })[]): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const s = new GgufStream(metadata, tensors, (c) => void chunks.push(c.slice()));
  await s.start();
  for (const t of tensors) await s.write(t.name, t.data);
  s.end();
  const out = new Uint8Array(s.layout.totalBytes);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
