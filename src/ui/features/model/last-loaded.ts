/**
 * What the person loaded last (the worker keeps it across reloads): fetched when the studio opens,
 * its Hub repo, revision, address (and token, when they asked to keep it) filled into the model
 * panel, and offered in one click that loads the model (from this browser's cache) and the dataset
 * with the options it was read with.
 */
import { create } from 'zustand';
import type { FileProgress, LastLoaded } from '../../../worker/api';
import { callback, studio } from '../../client';
import { toShown } from '../../components/ErrorBox';
import { useRunConfig } from '../../stores/run-config';
import { useSession } from '../../stores/session';
import { useDataPanel } from '../data/store';
import { useModelPanel } from './store';

interface LastLoadedState {
  last: LastLoaded | null;
  loading: boolean;
  error: { name: string; message: string } | null;
  fetch(): Promise<void>;
  load(): Promise<void>;
}

/** The run's sequence length and seed, which the dataset follows (as the data panel renders it). */
function runOptions(): { maxSeqLen?: number; seed?: number } {
  const d = useRunConfig.getState().draft;
  const len = Number(d.maxSeqLen);
  const seed = Number(d.seed);
  return { ...(Number.isInteger(len) && len > 0 ? { maxSeqLen: len } : {}), ...(Number.isInteger(seed) && seed >= 0 ? { seed } : {}) };
}

/** Fill the Hub fields with the kept repo unless the person has typed one already. */
function prefill(m: LastLoaded['model']): void {
  const panel = useModelPanel.getState();
  if (m?.kind !== 'hub' || panel.repo) return;
  panel.set({ repo: m.repo ?? '', revision: m.revision ?? '', endpoint: m.endpoint ?? '', ...(m.token ? { token: m.token, rememberToken: true } : {}) });
}

export const useLastLoaded = create<LastLoadedState>()((set, get) => ({
  last: null,
  loading: false,
  error: null,
  async fetch() {
    try {
      const last = await studio().lastLoaded();
      set({ last });
      prefill(last.model);
    } catch {
      set({ last: null }); // no storage: nothing to offer
    }
  },
  async load() {
    const { last } = get();
    if (!last || get().loading) return;
    set({ loading: true, error: null });
    useModelPanel.setState({ loading: true, progress: {}, rates: {}, error: null });
    const onProgress = (p: FileProgress) => useModelPanel.setState((st) => ({ progress: { ...st.progress, [p.file]: p } }));
    try {
      const r = await studio().loadLast(runOptions(), callback(onProgress));
      useSession.getState().setModel(r.model);
      useSession.getState().setDataset(r.dataset);
      if (last.model?.kind === 'hub') useModelPanel.getState().set({ kind: 'hub' });
      const o = last.dataset?.options;
      if (r.datasetFile && o) {
        useDataPanel.setState({
          file: r.datasetFile, loadedFile: r.datasetFile, template: o.template, maskPrompt: o.maskPrompt, validationFraction: o.validationFraction,
          columns: o.columns ?? '', demoTemplate: false, error: null, lengthFix: null,
        });
      }
    } catch (e) {
      set({ error: toShown(e) });
    } finally {
      set({ loading: false });
      useModelPanel.setState({ loading: false });
    }
  },
}));
