/** The Storage tab: what the studio keeps in this browser (through the worker), and deleting it. */
import { create } from 'zustand';
import type { StorageCategory, StorageReport } from '../../../worker/api';
import { studio } from '../../client';
import { toShown } from '../../components/ErrorBox';
import { useSession } from '../../stores/session';
import { requestPersistenceOnce } from '../../../io/stores/persist';

interface StorageState {
  report: StorageReport | null;
  busy: string | null;
  error: { name: string; message: string } | null;
  refresh(): Promise<void>;
  remove(category: StorageCategory, id: string | undefined, what: string): Promise<void>;
  /** Ask the browser again to keep this site's data (persist() needs a page, so it is asked here). */
  askPersist(): Promise<void>;
}

export const useStorage = create<StorageState>()((set, get) => ({
  report: null,
  busy: null,
  error: null,
  async refresh() {
    try {
      set({ report: await studio().storageReport(), error: null });
    } catch (e) {
      set({ error: toShown(e) });
    }
  },
  async remove(category, id, what) {
    set({ busy: `Deleting ${what}`, error: null });
    try {
      await studio().deleteStored(category, id);
      useSession.getState().libraryChanged();
      await get().refresh();
    } catch (e) {
      set({ error: toShown(e) });
    } finally {
      set({ busy: null });
    }
  },
  async askPersist() {
    await navigator.storage?.persist?.().catch(() => false);
    await requestPersistenceOnce();
    await get().refresh();
  },
}));
