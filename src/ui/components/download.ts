/** Save bytes made in the worker as a file download. */
import type { ExportedFile } from '../../worker/api';

export function saveFile(file: ExportedFile, type = 'application/octet-stream'): void {
  saveBlob(new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type }), file.name);
}

export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
