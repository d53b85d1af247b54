/**
 * A safetensors file written tensor by tensor: the header is computed up front from the names,
 * dtypes and shapes alone (so no tensor has to be in memory before it is written), then each
 * tensor's bytes go to the sink in header order. `writeSafetensors` (./writer.ts) builds its files
 * from the same layout (header JSON in the given order, `__metadata__` last, padded with spaces to
 * 8 bytes), so a streamed file and an in-memory one cannot drift apart.
 */
import { isDtype, type Dtype } from './dtypes';
import { byteSize } from './header';

export interface TensorEntry {
  name: string;
  dtype: Dtype;
  shape: readonly number[];
}

/**
 * Receives the file's bytes in order; may be async (a file stream, a FileSystemWritableFileStream).
 * A chunk may view memory the caller keeps using (e.g. a loader's cached tensor): copy it to keep it.
 */
export type ByteSink = (chunk: Uint8Array) => void | Promise<void>;

export interface SafetensorsLayout {
  /** The 8-byte length and the padded header JSON. */
  header: Uint8Array;
  /** Bytes of each tensor, in order. */
  sizes: number[];
  /** header + every tensor. */
  totalBytes: number;
}

export function safetensorsLayout(entries: readonly TensorEntry[], metadata?: Record<string, string>): SafetensorsLayout {
  const seen = new Set<string>();
  const parts: string[] = [];
  const sizes: number[] = [];
  let offset = 0;
  for (const t of entries) {
    const what = `safetensors: tensor "${t.name}"`;
    if (t.name === '' || t.name === '__metadata__') throw new Error(`safetensors: invalid tensor name "${t.name}"`);
    if (seen.has(t.name)) throw new Error(`${what} appears twice`);
    seen.add(t.name);
    if (!isDtype(t.dtype)) throw new Error(`${what}: unknown dtype ${String(t.dtype)}`);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new Error(`${what}: bad shape ${JSON.stringify(t.shape)}`);
    const bytes = byteSize(t.dtype, t.shape);
    if (bytes === null) throw new Error(`${what}: shape ${JSON.stringify(t.shape)} is too large`);
    // Built by hand, not from one object: JS would reorder integer-like keys such as "0".
    parts.push(`${JSON.stringify(t.name)}:${JSON.stringify({ dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] })}`);
    sizes.push(bytes);
    offset += bytes;
  }
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`safetensors: metadata "${k}" must be a string`);
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLen = Math.ceil(json.byteLength / 8) * 8;
  const header = new Uint8Array(8 + headerLen);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, headerLen % 2 ** 32, true);
  dv.setUint32(4, Math.floor(headerLen / 2 ** 32), true);
  header.set(json, 8);
  header.fill(0x20, 8 + json.byteLength);
  return { header, sizes, totalBytes: header.byteLength + offset };
}

/** Writes the header at `start`, then each tensor in order; `end` checks that none is missing. */
export class SafetensorsStream {
  private next = 0;
  private started = false;
  readonly layout: SafetensorsLayout;

  constructor(private readonly entries: readonly TensorEntry[], private readonly sink: ByteSink, metadata?: Record<string, string>) {
    this.layout = safetensorsLayout(entries, metadata);
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('safetensors stream: started twice');
    this.started = true;
    await this.sink(this.layout.header);
  }

  /** The bytes of the next tensor in header order (exactly its size). */
  async write(name: string, data: ArrayBufferView): Promise<void> {
    if (!this.started) throw new Error('safetensors stream: write before start');
    const e = this.entries[this.next];
    if (!e) throw new Error(`safetensors stream: tensor "${name}" is one more than the header lists`);
    if (e.name !== name) throw new Error(`safetensors stream: tensor "${name}" written where the header expects "${e.name}"`);
    const want = this.layout.sizes[this.next];
    if (data.byteLength !== want) throw new Error(`safetensors stream: tensor "${name}" has ${data.byteLength} bytes, the header says ${want}`);
    this.next++;
    await this.sink(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  end(): void {
    if (this.next !== this.entries.length) {
      throw new Error(`safetensors stream: ${this.entries.length - this.next} tensors were not written (next: "${this.entries[this.next].name}")`);
    }
  }
}
