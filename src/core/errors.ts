/**
 * A file (weights, adapter, config) that cannot be used as it is. The message names the file and
 * the specific defect; `file` repeats the name so the UI can show it apart from the message.
 * Plain fields only, so the class and message survive the worker boundary.
 */
export class BadFileError extends Error {
  override name = 'BadFileError';
  readonly file: string;

  constructor(file: string, defect: string) {
    super(`${file}: ${defect}`);
    this.file = file;
  }
}
