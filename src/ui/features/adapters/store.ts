/** The library: adapters from IndexedDB (through the worker), and what is being done to them. */
import { create } from 'zustand';
import type { AdapterMeta, ExportedFile, GgufWhat, MergedModel } from '../../../worker/api';
import { callback, studio } from '../../client';
import { bytes } from '../../components/format';
import { toShown } from '../../components/ErrorBox';
import { saveBlob, saveFile } from '../../components/download';
import { useSession } from '../../stores/session';
import { trashWithUndo } from '../../stores/undo';

interface LibraryState {
  adapters: AdapterMeta[];
  busy: string | null;
  error: { name: string; message: string } | null;
  message: string | null;
  /** Merge weights by adapter id (checked ones take part). */
  mergeWeights: Record<string, number | string>;
  mergeChecked: string[];
  mergeDtype: 'F16' | 'BF16';
  /** A long export's progress (merge, GGUF): 0..1, null while unknown. */
  progress: { label: string; value: number | null; detail?: string } | null;
  /** The GGUF download's choices. */
  gguf: { what: GgufWhat; type: string; adapterId: string };
  /** The Ollama Modelfile of the last GGUF, offered next to it. */
  modelfile: ExportedFile | null;
  refresh(): Promise<void>;
  setGguf(p: Partial<LibraryState['gguf']>): void;
  exportGguf(): Promise<void>;
  downloadModelfile(): void;
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
  progress: null,
  gguf: { what: 'adapter', type: 'f16', adapterId: '' },
  modelfile: null,
  async refresh() {
    try {
      const adapters = await studio().listAdapters();
      set((s) => ({ adapters, mergeChecked: s.mergeChecked.filter((id) => adapters.some((a) => a.id === id)) }));
    } catch (e) {
      set({ error: toShown(e) });
    }
  },
  setMerge: (p) => set(p),
  setGguf: (p) => set((s) => ({ gguf: { ...s.gguf, ...p } })),
  async run(label, job) {
    set({ busy: label, error: null, message: null });
    try {
      const msg = await job();
      if (msg) set({ message: msg });
    } catch (e) {
      set({ error: toShown(e) });
    } finally {
      set({ busy: null, progress: null });
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
    await trashWithUndo({
      what: `adapter "${name}"`, trash: () => studio().trashAdapter(id), restore: () => studio().restoreAdapter(id), deleteForGood: () => studio().deleteAdapter(id),
      changed: async () => {
        useSession.getState().libraryChanged();
        await get().refresh();
      },
    });
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
    set({ progress: { label: 'Merging', value: 0 } });
    const merged = await studio().mergeAdapters(parts, mergeDtype, callback((p: { file: string; bytes: number; totalBytes: number }) => set({
      progress: { label: 'Merging', value: p.bytes / p.totalBytes, detail: `${p.file}: ${bytes(p.bytes)} of ${bytes(p.totalBytes)}` },
    })));
    saveBlob(merged.zip, merged.fileName);
    return mergedMessage(merged, parts.length, mergeDtype);
  }),
  exportGguf: () => get().run('Writing the GGUF', async () => {
    const { gguf } = get();
    const adapterId = gguf.what === 'base' ? undefined : gguf.adapterId || get().adapters[0]?.id;
    if (gguf.what !== 'base' && !adapterId) throw new Error('choose an adapter for the GGUF');
    set({ modelfile: null, progress: { label: 'Writing the GGUF', value: 0 } });
    const r = await studio().exportGguf({ what: gguf.what, type: gguf.type, adapterId }, callback((p: { bytes: number; totalBytes: number }) => set({
      progress: { label: 'Writing the GGUF', value: p.bytes / p.totalBytes, detail: `${bytes(p.bytes)} of ${bytes(p.totalBytes)}` },
    })));
    saveBlob(r.gguf, r.fileName);
    set({ modelfile: r.modelfile });
    const base = r.baseFileName ? ` It runs on the base model's GGUF: export "base model" as f16 and name it ${r.baseFileName}, or change FROM in the Modelfile.` : '';
    const warn = r.warnings.length ? ` Note: ${r.warnings.join('; ')}.` : '';
    return `Downloaded ${r.fileName} (${bytes(r.bytes)}). For Ollama, download its Modelfile, put it next to the file and run: ollama create my-model -f ${r.modelfile.name}. For llama.cpp: llama-cli -m ${r.baseFileName ? `${r.baseFileName} --lora ${r.fileName}` : r.fileName}.${base}${warn}`;
  }),
  downloadModelfile() {
    const f = get().modelfile;
    if (f) saveFile(f, 'text/plain');
  },
}));

/** What the merged download holds and how to load it (the message under the merge button). */
export function mergedMessage(m: MergedModel, adapters: number, dtype: string): string {
  const weights = m.files.filter((f) => f.name.endsWith('.safetensors'));
  const others = m.files.filter((f) => !f.name.endsWith('.safetensors')).map((f) => f.name);
  const shards = weights.length > 1 ? `${weights.length} weight shards with model.safetensors.index.json` : `model.safetensors (${dtype})`;
  const folder = m.fileName.replace(/\.zip$/, '');
  return `Merged ${adapters} adapter${adapters > 1 ? 's' : ''} (${m.mergedModules} modules) and downloaded ${m.fileName} (${bytes(m.totalBytes)}): ${shards}, ${others.join(', ')}. ` +
    `Unzip it and load the folder as it is: AutoModelForCausalLM.from_pretrained("${folder}") and AutoTokenizer.from_pretrained("${folder}"); README.md is its model card.`;
}
