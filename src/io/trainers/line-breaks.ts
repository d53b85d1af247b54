/**
 * Comment text for the generated YAML and Python files. It is split on every character a Python
 * or YAML (1.1) reader takes as a line break, and control characters those readers refuse become
 * "?", so no text (a run name, a note) can end a comment and become code or configuration.
 */
const LINE_BREAK = /\r\n|[\r\n\x85\u2028\u2029]/;
const UNPRINTABLE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The lines of a comment, each safe to write after `#`. */
export function safeCommentLines(text: string): string[] {
  return text.split(LINE_BREAK).map((l) => l.replace(UNPRINTABLE, '?'));
}
