/** An export llama.cpp could not load or would compute differently; the message says which part and why. */
export class GgufExportError extends Error {
  override name = 'GgufExportError';
}
