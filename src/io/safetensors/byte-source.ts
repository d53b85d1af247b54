import { BadFileError } from '../../core/errors';

/**
 * Random access to the bytes of a file that may be far larger than JS memory allows (a 4 GB
 * checkpoint): readers ask for ranges, never for the whole thing.
 */
export interface ByteSource {
  /** Total length in bytes. */
  readonly size: number;
  /**
   * Exactly `length` bytes starting at `offset`. The result may be a view into memory the source
   * shares with others: treat it as read-only, and copy it before keeping or aligning it.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** A short name for messages (file name or URL). */
  describe(): string;
}

/** Throws unless [offset, offset+length) is a valid range of a `size`-byte source. */
export function checkRange(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`${name}: invalid read of ${length} bytes at offset ${offset}`);
  }
  if (offset + length > size) {
    throw new BadFileError(name, `read of ${length} bytes at offset ${offset} runs past the end of the file (${size} bytes)`);
  }
}

/** Throws when a source delivered a different number of bytes than asked for. */
export function checkLength(name: string, got: number, offset: number, length: number): void {
  if (got !== length) {
    throw new BadFileError(
      name,
      `asked for ${length} bytes at offset ${offset} but got ${got}; the file may have changed or been truncated while reading`,
    );
  }
}

/** Bytes already in memory; reads are zero-copy views. */
export function bytesSource(buf: ArrayBuffer | Uint8Array, name = 'in-memory buffer'): ByteSource {
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  return {
    size: bytes.byteLength,
    read(offset, length) {
      checkRange(name, bytes.byteLength, offset, length);
      return Promise.resolve(bytes.subarray(offset, offset + length));
    },
    describe: () => name,
  };
}

/** A Blob or File (a picked file or a drop); each read slices it, so only that range is loaded. */
export function blobSource(blob: Blob): ByteSource {
  const name = typeof (blob as Partial<File>).name === 'string' && (blob as File).name ? (blob as File).name : 'blob';
  return {
    size: blob.size,
    async read(offset, length) {
      checkRange(name, blob.size, offset, length);
      const ab = await blob.slice(offset, offset + length).arrayBuffer();
      checkLength(name, ab.byteLength, offset, length);
      return new Uint8Array(ab);
    },
    describe: () => name,
  };
}
