/**
 * Where downloaded Hub files live so that the second load needs no network: a folder in Node (the
 * Hugging Face cache layout, shared with Python's huggingface_hub), the Origin Private File System
 * in the browser, or memory (tests; browsers without OPFS). A cache is keyed like the Hub: refs
 * (branch -> commit), a manifest per commit (the model's files with sizes and etags), and file
 * contents by etag, with interrupted downloads kept so a retry resumes where it stopped.
 */
import type { OpenedBytes } from '../types';

/** One file of a repo at a commit, as the Hub's tree listing describes it. */
export interface HubFileEntry {
  path: string;
  size: number;
  /** sha256 for LFS files, the git blob id otherwise (what the Hub's ETag says). */
  etag: string;
}

/** The files of a repo at one commit that a model load may need. */
export interface HubManifest {
  repo: string;
  commit: string;
  files: HubFileEntry[];
}

export interface CacheWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Flush and release; the bytes written so far stay (a later download resumes after them). */
  close(): Promise<void>;
}

export interface RepoCache {
  readRef(revision: string): Promise<string | null>;
  writeRef(revision: string, commit: string): Promise<void>;
  readManifest(commit: string): Promise<HubManifest | null>;
  writeManifest(m: HubManifest): Promise<void>;
  /** Bytes of this file already stored for the commit: entry.size when complete, less when a download was interrupted. */
  stored(commit: string, entry: HubFileEntry): Promise<number>;
  /** Appends to the partial file, which holds exactly `offset` bytes. */
  openWriter(commit: string, entry: HubFileEntry, offset: number): Promise<CacheWriter>;
  /** All entry.size bytes are written: make the file readable under the commit. */
  finish(commit: string, entry: HubFileEntry): Promise<void>;
  /** Drop a partial or corrupt file so the next download starts from zero. */
  discard(commit: string, entry: HubFileEntry): Promise<void>;
  /** A complete file. */
  open(commit: string, entry: HubFileEntry): Promise<OpenedBytes>;
}

export interface HubCache {
  /** For messages: where the cache is. */
  readonly location: string;
  repo(repoId: string): RepoCache;
}
