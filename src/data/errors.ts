/**
 * A dataset that cannot be used as it is. The message names the file, the line or example, and
 * what to change. Plain fields only, so the class and message survive the worker boundary.
 */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

/** A chat template that failed to render (its own `raise_exception`, or a Jinja error). */
export class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
}
