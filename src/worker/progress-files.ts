/**
 * Per-file progress for sources that do not report their own (a URL base, picked files): text
 * files when read; weight files are only opened here (their headers read) and marked `deferred`:
 * their bytes are read when a run or the playground uploads them, with the run's own progress.
 */
import type { ModelFiles } from '../io/model-source/types';
import type { FileProgress } from './api';

export function withProgress(files: ModelFiles, sink: (p: FileProgress) => void): ModelFiles & { detach(): void } {
  let attached = true;
  const report = (p: FileProgress) => { if (attached) sink(p); };
  return {
    detach: () => { attached = false; },
    ...files,
    describe: (f) => files.describe(f),
    list: () => files.list(),
    has: (f) => files.has(f),
    close: () => files.close(),
    async text(file) {
      const t = await files.text(file);
      if (t !== null) report({ file, loaded: t.length, total: t.length, done: true });
      return t;
    },
    async bytes(file, purpose) {
      const src = await files.bytes(file, purpose);
      if (purpose === 'header') return src;
      report({ file, loaded: 0, total: src.size, done: true, deferred: true });
      return src;
    },
  };
}
