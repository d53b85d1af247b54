/**
 * One interface for every place a base model comes from: a Hugging Face repo (downloaded and
 * cached), files a person picked or dropped, a URL base (the bundled demo), a folder on disk (CLI).
 * A source gives access to the files of a model in Hugging Face layout; src/io/model-source/model.ts
 * builds the config, the tensor index and the streaming tensor loader on top of it.
 */
import type { ByteSource } from '../safetensors/byte-source';
import type { ElementRange } from '../safetensors/reader';
import type { Dtype } from '../safetensors/dtypes';

/**
 * Loads one tensor of the base model by its Hugging Face name, as f32; with `range`, only elements
 * [start, start + count) of the flattened tensor (rows of a large table, so no whole f32 copy of it
 * is ever held). A loader may ignore `range` and return the whole tensor: callers check the length.
 */
export type TensorLoader = ((name: string, range?: ElementRange) => Promise<Float32Array<ArrayBuffer>>) & {
  /**
   * Elements [start, start + count) of a tensor as the file stores them (no conversion), checked as
   * the f32 loader checks them (a float dtype, the shape config.json implies, every value finite):
   * what the GPU quantizer streams from. A loader without it is read through the f32 path.
   */
  raw?: (name: string, range: ElementRange) => Promise<RawTensor>;
};

/** A tensor's elements as the file stores them. */
export interface RawTensor {
  dtype: Dtype;
  /** Exactly the elements' bytes, in a buffer of their own (offset 0). */
  bytes: Uint8Array<ArrayBuffer>;
}

/** Progress of one file (download, or reading from disk); the worker forwards these to the page. */
export interface FileProgress {
  file: string;
  loaded: number;
  /** null while the size is unknown. */
  total: number | null;
  done: boolean;
  /** The bytes came from the local cache, not the network. */
  cached?: boolean;
  /** Read on demand, when a run or the playground uploads the weights (picked files, a URL base). */
  deferred?: boolean;
}

export type ProgressListener = (p: FileProgress) => void;

/**
 * What a source will do with a file: read a few ranges (`header`: a safetensors header for the
 * tensor index) or all of it (`all`: weights being loaded). A hub source downloads a file into its
 * cache for `all`, and reads only the asked ranges over the network for `header`.
 */
export type ReadPurpose = 'header' | 'all';

export interface OpenedBytes extends ByteSource {
  close?(): Promise<void>;
}

/** The files of one model, by name at the root of the repo/folder (no sub-folders). */
export interface ModelFiles {
  /** Repo id, folder or URL: what `base_model_name_or_path` will say. */
  readonly name: string;
  /** Where the files live, for messages: "hf:org/name", a folder path, a URL. */
  readonly location: string;
  /** One file as messages should name it: "hf:org/name/config.json", a path, a URL. */
  describe(file: string): string;
  /** The file names this source knows, when it can list them (a URL base cannot). */
  list(): Promise<string[] | null>;
  has(file: string): Promise<boolean>;
  /** A text file's content, or null when the file does not exist. */
  text(file: string): Promise<string | null>;
  /** Random access to a file's bytes; throws BadFileError naming the file when it is missing. */
  bytes(file: string, purpose: ReadPurpose): Promise<OpenedBytes>;
  close(): Promise<void>;
}

/** Only plain file names: a hostile index must not reach outside the model's folder. */
export function isPlainFileName(name: string): boolean {
  return name.length > 0 && name.length < 256 && !/[\\/\0]/.test(name) && name !== '.' && name !== '..';
}
