/**
 * A base model opened from any ModelFiles: its parsed config (architecture checked, absurd sizes
 * refused), the tensor index from the safetensors headers, and a loader that streams one tensor at
 * a time as f32 (F32, F16, BF16 converted per tensor), which the graph's createBaseWeights
 * quantizes as each arrives: the model is never held whole in JS memory.
 */
import { jsonTooDeep, MAX_JSON_DEPTH } from '../../core/json-limits';
import type { TensorLoader } from './types';
import { BadFileError } from '../../core/errors';
import { decodeToF32 } from '../safetensors/decode';
import { openSafetensors, type ElementRange, type SafetensorsFile } from '../safetensors/reader';
import type { Dtype } from '../safetensors/dtypes';
import { parseModelConfig, type ModelConfig } from '../../config/model-config';
import { buildTensorIndex, checkTensors, expectedTensors, findWeightFiles, tensorProblem, type TensorIndex, type WeightFiles } from './weight-files';
import type { ModelTokenizer } from '../../data/tokenizer';
import { modelTokenizer, readTokenizerFiles, type TokenizerJsonFiles } from './tokenizer-files';
import type { ModelFiles, ReadPurpose } from './types';

export interface LoaderOptions {
  /** Called after each tensor is read: its name, how many so far, of how many in the checkpoint. */
  onTensor?: (name: string, done: number, total: number) => void;
  /** Called after each read with the bytes it read from the file (progress in bytes). */
  onRead?: (bytes: number) => void;
}

export interface ModelSource {
  /** Repo id or folder: `base_model_name_or_path` of an adapter trained on it. */
  readonly name: string;
  readonly location: string;
  readonly config: ModelConfig;
  readonly configJson: Record<string, unknown>;
  readonly files: ModelFiles;
  /** File names when the source can list them (a URL base cannot). */
  listFiles(): Promise<string[] | null>;
  /** A text file; throws BadFileError naming it when absent. */
  readText(file: string): Promise<string>;
  openSafetensors(file: string, purpose?: ReadPurpose): Promise<SafetensorsFile>;
  weightFiles(): Promise<WeightFiles>;
  /** Every tensor's file, dtype and shape, from the headers (no weights read), checked against config.json. */
  tensorIndex(): Promise<TensorIndex>;
  /** tokenizer.json and tokenizer_config.json as JSON; throws when tokenizer.json is missing. */
  tokenizerFiles(): Promise<TokenizerJsonFiles>;
  /** The model's own tokenizer (tokenizer.json + tokenizer_config.json + chat_template.jinja). */
  tokenizer(): Promise<ModelTokenizer>;
  /** Bring every weight file to where it can be read fast (a hub download into the cache); reports progress through the source. */
  prepareWeights(): Promise<void>;
  /** Streams tensors by Hugging Face name as f32, one at a time, or (`raw`) as the file stores them. */
  loader(opts?: LoaderOptions): TensorLoader;
  close(): Promise<void>;
}

/** How many values are NaN or infinite, and the first one's index; null when all are finite. */
export function nonFinite(values: Float32Array): { count: number; first: number } | null {
  let count = 0;
  let first = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) { // NaN and ±Infinity only
      if (count++ === 0) first = i;
    }
  }
  return count ? { count, first } : null;
}

/**
 * nonFinite on a 16- or 32-bit float tensor's bytes, without converting them (an all-ones exponent
 * is NaN or infinity); undefined for other dtypes (decode and use nonFinite).
 */
export function nonFiniteRaw(dtype: Dtype, bytes: Uint8Array): { count: number; first: number } | null | undefined {
  const width = dtype === 'F32' ? 4 : dtype === 'F16' || dtype === 'BF16' ? 2 : 0;
  if (!width || bytes.byteOffset % width) return undefined;
  const v = width === 4 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) : new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const mask = dtype === 'F32' ? 0x7f800000 : dtype === 'F16' ? 0x7c00 : 0x7f80;
  let count = 0;
  let first = -1;
  for (let i = 0; i < v.length; i++) {
    if ((v[i] & mask) === mask && count++ === 0) first = i;
  }
  return count ? { count, first } : null;
}

/** A memoised promise that forgets itself when it fails, so the next call tries again (and a download resumes). */
function retryable<T>(p: Promise<T>, forget: () => void): Promise<T> {
  p.catch(forget);
  return p;
}

/** Reads and checks config.json; everything else is read on demand. */
export async function openModel(files: ModelFiles): Promise<ModelSource> {
  const text = await files.text('config.json');
  if (text === null) {
    throw new BadFileError(files.describe('config.json'), `file is missing: ${files.location} is not a model in Hugging Face layout (config.json, *.safetensors, tokenizer.json)`);
  }
  if (!text.trim()) throw new BadFileError(files.describe('config.json'), 'is empty; the download may be incomplete: get config.json again from the model\'s repo');
  if (jsonTooDeep(text)) throw new BadFileError(files.describe('config.json'), `JSON nested more than ${MAX_JSON_DEPTH} levels deep; a config.json is a flat object: the file is corrupt or not a model config`);
  let configJson: Record<string, unknown>;
  try {
    configJson = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new BadFileError(files.describe('config.json'), `is not valid JSON (${(e as Error).message})`);
  }
  const config = parseModelConfig(configJson);

  let weights: Promise<WeightFiles> | null = null;
  let index: Promise<TensorIndex> | null = null;
  const full = new Map<string, Promise<SafetensorsFile>>(); // opened for reading whole ('all')

  const open = async (file: string, purpose: ReadPurpose = 'all') => openSafetensors(await files.bytes(file, purpose));
  const weightFiles = () => (weights ??= retryable(findWeightFiles(files), () => (weights = null)));
  const tensorIndex = () =>
    (index ??= retryable((async () => {
      const w = await weightFiles();
      // Read headers through the already-opened full files when there are some (no second download).
      const idx = await buildTensorIndex(files, w, (f, purpose) => full.get(f) ?? open(f, purpose));
      checkTensors(files, config, idx);
      return idx;
    })(), () => (index = null)));
  const shard = (file: string) => {
    let p = full.get(file);
    if (!p) full.set(file, (p = retryable(open(file, 'all'), () => full.delete(file))));
    return p;
  };

  let prepared: Promise<void> | null = null;
  // Open every weight file whole first (a hub model is downloaded into its cache), then index them.
  const prepareWeights = () =>
    (prepared ??= retryable((async () => {
      for (const f of (await weightFiles()).files) await shard(f);
      await tensorIndex();
    })(), () => (prepared = null)));

  return {
    name: files.name,
    location: files.location,
    config,
    configJson,
    files,
    listFiles: () => files.list(),
    async readText(file) {
      const t = await files.text(file);
      if (t === null) throw new BadFileError(files.describe(file), 'file is missing');
      return t;
    },
    openSafetensors: open,
    weightFiles,
    tensorIndex,
    tokenizerFiles: () => readTokenizerFiles(files),
    tokenizer: () => modelTokenizer(files),
    prepareWeights,
    loader(opts = {}) {
      const expected = expectedTensors(config);
      let done = 0;
      /** The tensor's entry, refused when it is not what config.json implies. */
      const entry = async (name: string) => {
        await prepareWeights();
        const idx = await tensorIndex();
        const t = idx.get(name);
        if (!t) throw new BadFileError(files.location, `the weights have no tensor "${name}"`);
        const problem = tensorProblem(name, t, expected.get(name));
        if (problem) throw new BadFileError(files.describe(t.file), problem);
        return { t, total: idx.size };
      };
      /** Reads the bytes (decoded to f32 when `decode`), refuses non-finite values, reports progress. */
      const read = async (name: string, range: ElementRange | undefined, decode: boolean) => {
        const { t, total } = await entry(name);
        const bytes = await (await shard(t.file)).readRaw(name, range);
        const decoded = decode ? decodeToF32(t.dtype, bytes) as Float32Array<ArrayBuffer> : null;
        const checked = nonFiniteRaw(t.dtype, bytes); // undefined: not a 16/32-bit float, check the values
        const found = checked !== undefined ? checked : nonFinite(decoded ?? decodeToF32(t.dtype, bytes));
        const bad = found && { ...found, first: found.first + (range?.start ?? 0) };
        if (bad) {
          throw new BadFileError(files.describe(t.file), `tensor "${name}" ${t.dtype} ${JSON.stringify(t.shape)} holds ${bad.count} non-finite value${bad.count > 1 ? 's' : ''} ` +
            `(NaN or infinity), the first at index ${bad.first}${t.shape.length === 2 ? ` (row ${Math.floor(bad.first / t.shape[1])}, column ${bad.first % t.shape[1]})` : ''}: ` +
            'the weights are corrupt (or overflowed when converted); download the model again or use another checkpoint');
        }
        opts.onRead?.(bytes.byteLength);
        // A range counts its tensor once, when its last element is read.
        const numel = t.shape.reduce((a, b) => a * b, 1);
        if (!range || range.start + range.count >= numel) opts.onTensor?.(name, ++done, total);
        return { t, bytes, decoded };
      };
      const load: TensorLoader = async (name, range) => (await read(name, range, true)).decoded!;
      load.raw = async (name, range) => {
        const { t, bytes } = await read(name, range, false);
        return { dtype: t.dtype, bytes: bytes as Uint8Array<ArrayBuffer> };
      };
      return load;
    },
    close: () => files.close(),
  };
}
