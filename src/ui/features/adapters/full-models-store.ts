/** The fully finetuned models of the library (through the worker): listing, download, rename, delete with undo. */
import { create } from 'zustand';
import type { FullModelDownload, FullModelMeta } from '../../../worker/api';
import { studio } from '../../client';
import { bytes } from '../../components/format';
import { toShown } from '../../components/ErrorBox';
import { saveBlob } from '../../components/download';
import { useSession } from '../../stores/session';
import { offerUndo } from '../../stores/undo';

interface FullModelsState {
  models: FullModelMeta[];
  busy: string | null;
  error: { name: string; message: string } | null;
  message: string | null;
  refresh(): Promise<void>;
  download(id: string): Promise<void>;
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
      set({ busy: null });
    }
  };
  return {
    models: [],
    busy: null,
    error: null,
    message: null,
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
    remove: (id) => run('Deleting', async () => {
      const name = get().models.find((m) => m.id === id)?.name ?? id;
      await studio().trashFullModel(id);
      useSession.getState().libraryChanged();
      await get().refresh();
      await offerUndo(`Deleted finetuned model "${name}".`, async () => {
        await studio().restoreFullModel(id);
        useSession.getState().libraryChanged();
        await get().refresh();
      }, () => studio().deleteFullModel(id));
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
