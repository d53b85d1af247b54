/**
 * Python literals for the generated training script. A JSON string is a valid Python string
 * literal (the same escapes), so text is written with JSON.stringify and can never break out of it.
 */
import { safeCommentLines } from './line-breaks';

export type PyValue = string | number | boolean | null | PyValue[] | PyCode | { [key: string]: PyValue };
/** Python source written as is (a name such as `torch.bfloat16`); never built from user text. */
export class PyCode {
  constructor(readonly source: string) {}
}

export const code = (source: string): PyCode => new PyCode(source);

export function py(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`cannot write ${v} to Python`);
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  if (v instanceof PyCode) return v.source;
  return `{${Object.entries(v as Record<string, PyValue>).map(([k, x]) => `${JSON.stringify(k)}: ${py(x)}`).join(', ')}}`;
}

/** Keyword arguments one per line, each with its comment lines above it. */
export function kwargs(args: readonly { name: string; value: PyValue; comment?: string }[], indent = 4): string {
  const pad = ' '.repeat(indent);
  return args
    .map((a) => `${a.comment ? `${safeCommentLines(a.comment).map((l) => `${pad}# ${l}`).join('\n')}\n` : ''}${pad}${a.name}=${py(a.value)},`)
    .join('\n');
}

/** `# text` lines. */
export const pyComment = (text: string, indent = 0): string => safeCommentLines(text).map((l) => `${' '.repeat(indent)}#${l ? ` ${l}` : ''}`).join('\n');
