// Node only (CLI, tests): imports node:fs, so no browser module may import this file.
/** A model folder on disk; files are read with positional reads, one tensor at a time. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { BadFileError } from '../../core/errors';
import { fileSource } from '../node-file-source';
import { isPlainFileName, type ModelFiles, type OpenedBytes } from './types';

export async function dirModelFiles(dir: string): Promise<ModelFiles> {
  const abs = resolve(dir);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new BadFileError(dir, 'folder does not exist; give a model folder (config.json, *.safetensors, tokenizer.json) or hf:org/name');
  if (!st.isDirectory()) throw new BadFileError(dir, 'is a file, not a folder; give the folder that holds config.json and the *.safetensors files');
  const names = (await readdir(abs, { withFileTypes: true })).filter((d) => d.isFile() || d.isSymbolicLink()).map((d) => d.name);
  const present = new Set(names);
  const opened: OpenedBytes[] = [];
  const path = (file: string) => {
    if (!isPlainFileName(file)) throw new BadFileError(file, 'is not a plain file name; a model index may only name files in the model folder');
    return join(abs, file);
  };
  return {
    name: dir,
    location: `folder ${dir} (${basename(abs)})`,
    describe: (file) => join(dir, file),
    list: async () => [...present],
    has: async (file) => isPlainFileName(file) && present.has(file),
    text: async (file) => (isPlainFileName(file) && present.has(file) ? readFile(path(file), 'utf8') : null),
    async bytes(file) {
      if (!isPlainFileName(file) || !present.has(file)) throw new BadFileError(join(dir, file), 'file is missing');
      const src = await fileSource(path(file));
      opened.push(src);
      return src;
    },
    async close() {
      await Promise.all(opened.splice(0).map((s) => s.close?.()));
    },
  };
}
