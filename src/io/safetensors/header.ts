import { BadFileError } from '../../core/errors';
import { DTYPE_BYTES, DTYPES, isDtype, type Dtype } from './dtypes';
import { findDuplicateKey } from './json-keys';

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Byte range relative to the start of the data section (just after the header). */
  begin: number;
  end: number;
}

export interface ParsedHeader {
  metadata: Record<string, string>;
  /** In file order: sorted by offset. */
  tensors: Map<string, TensorInfo>;
}

const METADATA_KEY = '__metadata__';

/**
 * Parse and validate the header JSON of a safetensors file whose data section is `dataSize`
 * bytes. Every defect is a BadFileError naming `file`, the tensor and the problem.
 */
export function parseHeader(file: string, bytes: Uint8Array, dataSize: number): ParsedHeader {
  const bad = (defect: string): BadFileError => new BadFileError(file, defect);
  // Hugging Face's reader requires the first byte to be '{' (InvalidHeaderStart); so do we.
  if (bytes[0] !== 0x7b) throw bad(`header is not a JSON object (it must start with '{'); this is not a safetensors file`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw bad('header is not valid UTF-8; the file is corrupt or not safetensors');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(`header is not valid JSON (${(e as Error).message}); the file is corrupt or truncated`);
  }
  if (!isPlainObject(json)) throw bad('header is not a JSON object');
  const dup = findDuplicateKey(text);
  if (dup) {
    throw bad(
      dup.path.length === 0
        ? `duplicate tensor name "${dup.key}" in the header`
        : `duplicate key "${dup.key}" inside the header entry "${dup.path.join('.')}"`,
    );
  }

  let metadata: Record<string, string> = {};
  const list: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === METADATA_KEY) metadata = parseMetadata(file, entry);
    else list.push(parseTensor(file, name, entry, dataSize));
  }
  checkCoverage(file, list, dataSize);
  return { metadata, tensors: new Map(list.map((t) => [t.name, t])) };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSizeInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function parseMetadata(file: string, entry: unknown): Record<string, string> {
  if (entry === null) return {}; // serde's Option reads null as "no metadata"
  if (!isPlainObject(entry)) throw new BadFileError(file, `__metadata__ must be an object mapping strings to strings, not ${describe(entry)}`);
  for (const [k, v] of Object.entries(entry)) {
    if (typeof v !== 'string') throw new BadFileError(file, `__metadata__ must map strings to strings, but "${k}" is ${describe(v)}`);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return Object.fromEntries(Object.entries(entry as Record<string, string>));
}

function parseTensor(file: string, name: string, entry: unknown, dataSize: number): TensorInfo {
  const bad = (defect: string): BadFileError => new BadFileError(file, name === '' ? `a tensor has an empty name` : `tensor "${name}": ${defect}`);
  if (name === '') throw bad('');
  if (!isPlainObject(entry)) throw bad(`entry is not an object (${describe(entry)})`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (dtype === undefined) throw bad('missing dtype');
  if (!isDtype(dtype)) throw bad(`unknown dtype ${JSON.stringify(dtype)} (supported: ${DTYPES.join(', ')})`);
  if (shape === undefined) throw bad('missing shape');
  if (!Array.isArray(shape) || !shape.every(isSizeInt)) {
    throw bad(`shape ${JSON.stringify(shape)} must be an array of non-negative integers`);
  }
  if (offsets === undefined) throw bad('missing data_offsets');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isSizeInt) || offsets[0] > offsets[1]) {
    throw bad(`data_offsets ${JSON.stringify(offsets)} must be two non-negative integers [begin, end] with begin <= end`);
  }
  const [begin, end] = offsets as [number, number];
  const bytes = byteSize(dtype, shape);
  if (bytes === null) throw bad(`shape ${JSON.stringify(shape)} overflows: more elements than any file can hold`);
  if (bytes !== end - begin) {
    throw bad(`shape ${JSON.stringify(shape)} of ${dtype} needs ${bytes} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`);
  }
  if (end > dataSize) throw bad(`data_offsets [${begin}, ${end}] run past the end of the data section (${dataSize} bytes); the file is truncated`);
  return { name, dtype, shape: shape.slice(), begin, end };
}

/** numel * itemsize, or null when it is not a safe integer (a 0 dimension wins over overflow). */
export function byteSize(dtype: Dtype, shape: readonly number[]): number | null {
  if (shape.includes(0)) return 0;
  let n = DTYPE_BYTES[dtype];
  for (const d of shape) {
    n *= d;
    if (!Number.isSafeInteger(n)) return null;
  }
  return n;
}

/** The tensors must tile the data section exactly: no overlap, no hole, nothing after. Sorts `list`. */
function checkCoverage(file: string, list: TensorInfo[], dataSize: number): void {
  list.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev: TensorInfo | null = null;
  for (const t of list) {
    if (t.begin < cursor) throw new BadFileError(file, `tensors "${prev!.name}" and "${t.name}" overlap (bytes ${t.begin}..${cursor} of the data section)`);
    if (t.begin > cursor) {
      const where = prev ? `between tensors "${prev.name}" and "${t.name}"` : `before the first tensor "${t.name}"`;
      throw new BadFileError(file, `hole of ${t.begin - cursor} bytes ${where}: the data section must be exactly covered by tensors`);
    }
    if (t.end > t.begin || !prev) prev = t;
    cursor = t.end;
  }
  if (cursor !== dataSize) {
    throw new BadFileError(file, `hole of ${dataSize - cursor} bytes after the last tensor: the data section must be exactly covered by tensors`);
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
