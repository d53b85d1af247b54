/**
 * A library of named things the studio keeps (adapters, fully finetuned models): each is a listing
 * entry (`meta:<id>`: name, note, size, date, where it came from) and its files (`files:<id>`),
 * written in one transaction, so an entry is either whole or absent; listings never load the
 * files. Deleting goes through the trash first (undo), as a person expects of a library.
 */
import type { RunConfig } from '../../config/run-config';
import { newId, type Kv } from './kv';

/** What every library entry has. */
export interface LibraryMeta {
  id: string;
  name: string;
  /** The person's note. */
  note?: string;
  createdAt: number;
  /** Bytes of the main file (the weights). */
  sizeBytes: number;
  /** Deleted, with undo still possible: listings leave it out until it is deleted for good or restored. */
  trashedAt?: number;
}

/** A trained entry's origin: the base model, its trainable parameters, the run and step it came from. */
export interface TrainedFrom {
  /** The base model (base_model_name_or_path for an adapter; the name as loaded for a finetuned model). */
  baseModel: string;
  trainableParams: number;
  /** The run that produced it, with that run's config. */
  runId?: string;
  runConfig?: RunConfig;
  /** The training step these weights are from and its validation loss, when not the run's last (early stopping keeps the best evaluation's). */
  fromStep?: { step: number; valLoss: number };
}

export interface LibraryStore<M extends LibraryMeta, F> {
  save(meta: Omit<M, 'id' | 'createdAt' | 'sizeBytes'>, files: F): Promise<M>;
  /** Newest first, without the entries in the trash. */
  list(): Promise<M[]>;
  /** Entries deleted with undo still possible. */
  trashed(): Promise<M[]>;
  meta(id: string): Promise<M | undefined>;
  files(id: string): Promise<F>;
  /** Change the name and/or the note. */
  edit(id: string, patch: { name?: string; note?: string }): Promise<M>;
  /** Leave an entry out of listings until `restore` (undo) or `delete` (for good). */
  trash(id: string): Promise<void>;
  restore(id: string): Promise<void>;
  delete(id: string): Promise<void>;
}

export interface LibraryKind<F> {
  /** What an entry is, for messages: "adapter", "finetuned model". */
  noun: string;
  /** "an adapter", "a finetuned model". */
  withArticle: string;
  /** The prefix of new ids. */
  idPrefix: string;
  /** The bytes an entry's listing shows (its weights). */
  sizeOf(files: F): number;
  /** The files as stored (only the fields of F, whatever the caller passed). */
  stored(files: F): F;
}

export function createLibraryStore<M extends LibraryMeta, F>(kv: Kv, kind: LibraryKind<F>): LibraryStore<M, F> {
  const metaKey = (id: string) => `meta:${id}`;
  const filesKey = (id: string) => `files:${id}`;
  const mustMeta = async (id: string) => {
    const m = await kv.get<M>(metaKey(id));
    if (!m) throw new Error(`${kind.noun} ${id} is not in the library (deleted in another tab?)`);
    return m;
  };
  const all = async () => (await kv.entries<M>()).filter(([k]) => k.startsWith('meta:')).map(([, v]) => v).sort((a, b) => b.createdAt - a.createdAt);
  const patchMeta = async (id: string, patch: Partial<M>) => {
    const next = { ...(await mustMeta(id)), ...patch };
    await kv.set(metaKey(id), next);
    return next;
  };
  return {
    async save(meta, files) {
      const entry = { ...meta, id: newId(kind.idPrefix), createdAt: Date.now(), sizeBytes: kind.sizeOf(files) } as M;
      await kv.setMany([[filesKey(entry.id), kind.stored(files)], [metaKey(entry.id), entry]]);
      return entry;
    },
    list: async () => (await all()).filter((m) => m.trashedAt === undefined),
    trashed: async () => (await all()).filter((m) => m.trashedAt !== undefined),
    meta: (id) => kv.get<M>(metaKey(id)),
    async files(id) {
      await mustMeta(id);
      const f = await kv.get<F>(filesKey(id));
      if (!f) throw new Error(`${kind.noun} ${id} has no stored files`);
      return f;
    },
    async edit(id, patch) {
      const name = patch.name?.trim();
      if (patch.name !== undefined && !name) throw new Error(`${kind.withArticle} needs a name`);
      return patchMeta(id, { ...(name ? { name } : {}), ...(patch.note !== undefined ? { note: patch.note.trim() || undefined } : {}) } as Partial<M>);
    },
    trash: async (id) => { await patchMeta(id, { trashedAt: Date.now() } as Partial<M>); },
    restore: async (id) => { await patchMeta(id, { trashedAt: undefined } as Partial<M>); },
    delete: (id) => kv.delMany([metaKey(id), filesKey(id)]),
  };
}
