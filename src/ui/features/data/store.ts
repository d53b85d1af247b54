/** The data panel: the chosen file, rendering options, the summary the worker made, the last error. */
import { create } from 'zustand';
import type { DatasetOptions, TemplateChoice } from '../../../worker/api';
import { messageOf, studio } from '../../client';
import { toShown } from '../../components/ErrorBox';
import { useSession } from '../../stores/session';
import { useRunConfig } from '../../stores/run-config';
import { demoUrl } from '../../../worker/demo';

interface DataPanelState {
  template: TemplateChoice;
  maskPrompt: boolean;
  validationFraction: number;
  /** Field/column mapping as typed, e.g. "output=answer". */
  columns: string;
  file: File | null;
  /** The template was chosen for the demo, not by the person. */
  demoTemplate: boolean;
  loading: boolean;
  error: { name: string; message: string } | null;
  setOption(p: Partial<Pick<DataPanelState, 'template' | 'maskPrompt' | 'validationFraction'>>): void;
  setColumns(columns: string): void;
  load(file: File): Promise<void>;
  /** A file the person picked or dropped. */
  pick(file: File): Promise<void>;
  loadDemo(): Promise<void>;
  refresh(): Promise<void>;
}

function options(s: Pick<DataPanelState, 'template' | 'maskPrompt' | 'validationFraction' | 'columns'>): DatasetOptions {
  const d = useRunConfig.getState().draft;
  const maxSeqLen = Number(d.maxSeqLen);
  const seed = Number(d.seed);
  return {
    template: s.template, maskPrompt: s.maskPrompt, validationFraction: s.validationFraction, columns: s.columns,
    maxSeqLen: Number.isInteger(maxSeqLen) && maxSeqLen > 0 ? maxSeqLen : 128, seed: Number.isInteger(seed) && seed >= 0 ? seed : 0,
  };
}

export const useDataPanel = create<DataPanelState>()((set, get) => ({
  template: 'auto',
  maskPrompt: true,
  validationFraction: 0.1,
  columns: '',
  file: null,
  demoTemplate: false,
  loading: false,
  error: null,
  setOption(p) {
    set({ ...p, ...(p.template ? { demoTemplate: false } : {}) });
    void get().refresh();
  },
  setColumns(columns) {
    if (columns === get().columns) return;
    set({ columns });
    // The mapping is applied when the file is read: read the picked file again.
    const { file } = get();
    if (file) void get().load(file);
  },
  async load(file) {
    set({ loading: true, error: null, file });
    try {
      useSession.getState().setDataset(await studio().loadDataset(file, options(get())));
    } catch (e) {
      // The previous dataset stays loaded: a bad upload never leaves the studio without data.
      set({ error: toShown(e) });
    } finally {
      set({ loading: false });
    }
  },
  pick(file) {
    if (get().demoTemplate) set({ template: 'auto', demoTemplate: false });
    return get().load(file);
  },
  async loadDemo() {
    if (get().loading) return;
    set({ loading: true });
    // The demo's examples are written for the model's own short "Q: / A:" chat template.
    if (useSession.getState().model?.tokenizer.hasChatTemplate) set({ template: 'model', demoTemplate: true });
    try {
      const res = await fetch(demoUrl('dataset.jsonl'));
      if (!res.ok) throw new Error(`the demo dataset could not be fetched (HTTP ${res.status})`);
      await get().load(new File([await res.blob()], 'dataset.jsonl', { type: 'application/jsonl' }));
    } catch (e) {
      set({ error: { name: 'Error', message: messageOf(e) }, loading: false });
    }
  },
  async refresh() {
    if (!useSession.getState().dataset) return;
    try {
      useSession.getState().setDataset(await studio().updateDatasetOptions(options(get())));
      set({ error: null });
    } catch (e) {
      set({ error: toShown(e) });
    }
  },
}));
