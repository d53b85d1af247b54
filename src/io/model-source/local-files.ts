/**
 * A model from File objects: a folder chosen with <input webkitdirectory>, several files chosen at
 * once, or files dropped on the page. Only files at the top of a chosen folder count (a repo's
 * `original/` or `onnx/` sub-folders are ignored); each read slices the File, so a multi-GB
 * checkpoint is never loaded whole.
 */
import { BadFileError } from '../../core/errors';
import { blobSource } from '../safetensors/byte-source';
import type { ModelFiles } from './types';

/** The folder and file name of a picked file (webkitRelativePath is "folder/sub/name" for folder picks). */
function placeOf(f: File): { folder: string | null; depth: number; name: string } {
  const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath;
  if (!rel) return { folder: null, depth: 1, name: f.name };
  const parts = rel.split('/');
  return { folder: parts.length > 1 ? parts[0] : null, depth: parts.length - 1 || 1, name: parts[parts.length - 1] };
}

export function fileModelFiles(files: Iterable<File>, name?: string): ModelFiles {
  const byName = new Map<string, File>();
  let folder: string | null = null;
  for (const f of files) {
    const p = placeOf(f);
    folder ??= p.folder;
    if (p.depth > 1) continue;
    const prev = byName.get(p.name);
    if (prev && (prev.size !== f.size || prev.lastModified !== f.lastModified)) {
      throw new BadFileError(p.name, 'was chosen twice (two different files with this name); choose one model folder at a time');
    }
    byName.set(p.name, f);
  }
  if (byName.size === 0) throw new BadFileError('(no files)', 'nothing was chosen; choose the model folder or its files (config.json, *.safetensors, tokenizer.json)');
  const label = name ?? folder ?? 'local model';
  return {
    name: label,
    location: folder ? `folder "${folder}"` : 'the chosen files',
    describe: (file) => (folder ? `${folder}/${file}` : file),
    list: async () => [...byName.keys()],
    has: async (file) => byName.has(file),
    text: async (file) => (byName.has(file) ? byName.get(file)!.text() : null),
    async bytes(file) {
      const f = byName.get(file);
      if (!f) throw new BadFileError(file, `file is missing from ${folder ? `folder "${folder}"` : 'the chosen files'}; choose it too`);
      return blobSource(f);
    },
    close: async () => undefined,
  };
}
