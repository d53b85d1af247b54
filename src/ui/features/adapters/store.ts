/** The library: adapters from IndexedDB (through the worker), and what is being done to them. */
import { create } from 'zustand';
import type { AdapterMeta } from '../../../worker/api';
import { studio } from '../../client';
import { toShown } from '../../components/ErrorBox';
import { saveBlob, saveFile } from '../../components/download';
import { useSession } from '../../stores/session';
import { offerUndo } from '../../stores/undo';

interface LibraryState {
  adapters: AdapterMeta[];
  busy: string | null;
  error: { name: string; message: string } | null;
  message: string | null;
  /** Merge weights by adapter id (checked ones take part). */
  mergeWeights: Record<string, number | string>;
  mergeChecked: string[];
  mergeDtype: 'F16' | 'BF16';
  refresh(): Promise<void>;
  setMerge(p: Partial<Pick<LibraryState, 'mergeWeights' | 'mergeChecked' | 'mergeDtype'>>): void;
  run(label: string, job: () => Promise<string | void>): Promise<void>;
  download(id: string, as: 'zip' | 'files'): Promise<void>;
  importFiles(files: File[]): Promise<void>;
  /** Delete with undo (the notice at the bottom of the page). */
  remove(id: string): Promise<void>;
  edit(id: string, patch: { name: string; note: string }): Promise<void>;
  merge(): Promise<void>;
}

export const useLibrary = create<LibraryState>()((set, get) => ({
  adapters: [],
  busy: null,
  error: null,
  message: null,
  mergeWeights: {},
  mergeChecked: [],
  mergeDtype: 'F16',
  async refresh() {
    try {
      const adapters = await studio().listAdapters();
      set((s) => ({ adapters, mergeChecked: s.mergeChecked.filter((id) => adapters.some((a) => a.id === id)) }));
    } catch (e) {
      set({ error: toShown(e) });
    }
  },
  setMerge: (p) => set(p),
  async run(label, job) {
    set({ busy: label, error: null, message: null });
    try {
      const msg = await job();
      if (msg) set({ message: msg });
    } catch (e) {
      set({ error: toShown(e) });
    } finally {
      set({ busy: null });
    }
  },
  download: (id, as) => get().run('Exporting', async () => {
    for (const f of await studio().exportAdapter(id, as)) saveFile(f, f.name.endsWith('.json') ? 'application/json' : f.name.endsWith('.zip') ? 'application/zip' : 'application/octet-stream');
  }),
  importFiles: (files) => get().run('Importing', async () => {
    const a = await studio().importAdapter(files);
    useSession.getState().libraryChanged();
    await get().refresh();
    return `Imported ${a.name}.`;
  }),
  remove: (id) => get().run('Deleting', async () => {
    const name = get().adapters.find((a) => a.id === id)?.name ?? id;
    await studio().trashAdapter(id);
    useSession.getState().libraryChanged();
    await get().refresh();
    await offerUndo(`Deleted adapter "${name}".`, async () => {
      await studio().restoreAdapter(id);
      useSession.getState().libraryChanged();
      await get().refresh();
    }, () => studio().deleteAdapter(id));
  }),
  async edit(id, patch) {
    await studio().editAdapter(id, patch);
    useSession.getState().libraryChanged();
    await get().refresh();
  },
  merge: () => get().run('Merging', async () => {
    const { mergeChecked, mergeWeights, mergeDtype } = get();
    const parts = mergeChecked.map((id) => ({ id, weight: Number(mergeWeights[id] ?? 1) }));
    const bad = parts.find((p) => !Number.isFinite(p.weight));
    if (bad) throw new Error('every merge weight must be a number');
    const merged = await studio().mergeAdapters(parts, mergeDtype);
    saveBlob(merged.weights, 'model.safetensors');
    saveBlob(new Blob([merged.configJson], { type: 'application/json' }), 'config.json');
    return `Merged ${parts.length} adapter${parts.length > 1 ? 's' : ''} (${merged.mergedModules} modules) into model.safetensors (${mergeDtype}) and config.json; keep the base model's tokenizer files next to them.`;
  }),
}));
