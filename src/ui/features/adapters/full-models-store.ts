/** The fully finetuned models of the library (through the worker): listing, download (zip or GGUF), rename, delete with undo. */
import { create } from 'zustand';
import type { ExportedFile, FullModelDownload, FullModelMeta, GgufDownload } from '../../../worker/api';
import { callback, studio } from '../../client';
import { bytes } from '../../components/format';
import { toShown } from '../../components/ErrorBox';
import { saveBlob, saveFile } from '../../components/download';
import { useSession } from '../../stores/session';
import { trashWithUndo } from '../../stores/undo';

interface FullModelsState {
  models: FullModelMeta[];
  busy: string | null;
  error: { name: string; message: string } | null;
  message: string | null;
  /** The GGUF download's progress (0..1), while it is written. */
  progress: { label: string; value: number | null; detail?: string } | null;
  /** The GGUF download's choices (id '': the newest model). */
  gguf: { id: string; type: string };
  /** The Ollama Modelfile of the last GGUF, offered next to it. */
  modelfile: ExportedFile | null;
  refresh(): Promise<void>;
  download(id: string): Promise<void>;
  setGguf(p: Partial<FullModelsState['gguf']>): void;
  exportGguf(): Promise<void>;
  downloadModelfile(): void;
  /** Delete with undo (the notice at the bottom of the page). */
  remove(id: string): Promise<void>;
  edit(id: string, patch: { name: string; note: string }): Promise<void>;
}

export const useFullModels = create<FullModelsState>()((set, get) => {
  const run = async (label: string, job: () => Promise<string | void>) => {
    set({ busy: label, error: null, message: null });
    try {
      const msg = await job();
      if (msg) set({ message: msg });
    } catch (e) {
      set({ error: toShown(e) });
    } finally {
      set({ busy: null, progress: null });
    }
  };
  return {
    models: [],
    busy: null,
    error: null,
    message: null,
    progress: null,
    gguf: { id: '', type: 'q8_0' },
    modelfile: null,
    async refresh() {
      try {
        set({ models: await studio().listFullModels() });
      } catch (e) {
        set({ error: toShown(e) });
      }
    },
    download: (id) => run('Preparing the download', async () => {
      const d = await studio().exportFullModel(id);
      saveBlob(d.zip, d.fileName);
      return downloadMessage(d);
    }),
    setGguf: (p) => set((s) => ({ gguf: { ...s.gguf, ...p } })),
    exportGguf: () => run('Writing the GGUF', async () => {
      const { gguf, models } = get();
      const id = gguf.id || models[0]?.id;
      if (!id) throw new Error('choose a finetuned model for the GGUF');
      set({ modelfile: null, progress: { label: 'Writing the GGUF', value: 0 } });
      const r = await studio().exportFullModelGguf(id, gguf.type, callback((p: { bytes: number; totalBytes: number }) => set({
        progress: { label: 'Writing the GGUF', value: p.bytes / p.totalBytes, detail: `${bytes(p.bytes)} of ${bytes(p.totalBytes)}` },
      })));
      saveBlob(r.gguf, r.fileName);
      set({ modelfile: r.modelfile });
      return ggufMessage(r);
    }),
    downloadModelfile() {
      const f = get().modelfile;
      if (f) saveFile(f, 'text/plain');
    },
    remove: (id) => run('Deleting', async () => {
      const name = get().models.find((m) => m.id === id)?.name ?? id;
      await trashWithUndo({
        what: `finetuned model "${name}"`, trash: () => studio().trashFullModel(id), restore: () => studio().restoreFullModel(id), deleteForGood: () => studio().deleteFullModel(id),
        changed: async () => {
          useSession.getState().libraryChanged();
          await get().refresh();
        },
      });
    }),
    async edit(id, patch) {
      await studio().editFullModel(id, patch);
      useSession.getState().libraryChanged();
      await get().refresh();
    },
  };
});

/** What the download holds and how to load it. */
export function downloadMessage(d: FullModelDownload): string {
  const folder = d.fileName.replace(/\.zip$/, '');
  return `Downloaded ${d.fileName} (${bytes(d.totalBytes)}): ${d.files.map((f) => f.name).join(', ')}. ` +
    `Unzip it and load the folder as it is: AutoModelForCausalLM.from_pretrained("${folder}") and AutoTokenizer.from_pretrained("${folder}"); README.md is its model card.`;
}

/** What the GGUF is and how to run it. */
export function ggufMessage(r: GgufDownload): string {
  const warn = r.warnings.length ? ` Note: ${r.warnings.join('; ')}.` : '';
  return `Downloaded ${r.fileName} (${bytes(r.bytes)}): the whole finetuned model, nothing else needed. For llama.cpp: llama-cli -m ${r.fileName}. ` +
    `For Ollama, download its Modelfile, put it next to the file and run: ollama create my-model -f ${r.modelfile.name}.${warn}`;
}
