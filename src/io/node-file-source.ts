// Node only (CLI, tests): imports node:fs, so no browser module may import this file.
import { open } from 'node:fs/promises';
import { checkRange, type ByteSource } from './safetensors/byte-source';
import { BadFileError } from '../core/errors';

/** A file on disk read with positional reads, so a multi-GB checkpoint is never loaded whole. */
export async function fileSource(path: string): Promise<ByteSource & { close(): Promise<void> }> {
  const handle = await open(path, 'r');
  const size = (await handle.stat()).size;
  const name = path;
  return {
    size,
    async read(offset, length) {
      checkRange(name, size, offset, length);
      const out = new Uint8Array(length);
      // A positional read may return fewer bytes than asked; loop until done or EOF.
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead === 0) {
          throw new BadFileError(name, `ended after ${offset + done} bytes while reading ${length} bytes at offset ${offset}; was it truncated?`);
        }
        done += bytesRead;
      }
      return out;
    },
    describe: () => name,
    close: () => handle.close(),
  };
}
