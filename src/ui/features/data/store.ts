/**
 * The data panel: the file the person chose, rendering options, the summary the worker made, the
 * last error. The file chosen is what every later change renders (a new maximum sequence length
 * or seed, from any tab): when it could not be loaded, a change loads it again, never the dataset
 * that stayed loaded meanwhile. A file whose examples do not fit the sequence length comes with
 * the length that does (`lengthFix`), offered in place.
 */
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
  /** The file the person chose last (or the demo's): loaded, or waiting for a sequence length that fits it. */
  file: File | null;
  /** The file the worker holds now (the previous one stays when a new one fails). */
  loadedFile: File | null;
  /** The template was chosen for the demo, not by the person. */
  demoTemplate: boolean;
  loading: boolean;
  error: { name: string; message: string } | null;
  /** The chosen file's examples need a longer sequence: the length that fits. */
  lengthFix: { needed: number } | null;
  setOption(p: Partial<Pick<DataPanelState, 'template' | 'maskPrompt' | 'validationFraction'>>): void;
  setColumns(columns: string): void;
  /** `remember: false`: not kept as the dataset loaded last (the demo's, selected by the studio). */
  load(file: File, opts?: { remember?: boolean }): Promise<void>;
  /** A file the person picked or dropped. */
  pick(file: File): Promise<void>;
  loadDemo(): Promise<void>;
  /** Render the chosen file with the current options (loading it again if it is not the one loaded). */
  refresh(): Promise<void>;
  /** Set the maximum sequence length to what the chosen file needs, and render it. */
  applyLengthFix(): Promise<void>;
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

/** The error as shown, and the length fix it carries (a DatasetError from the worker with `neededSeqLen`). */
function failure(e: unknown): Pick<DataPanelState, 'error' | 'lengthFix'> {
  const needed = (e as { neededSeqLen?: unknown } | null)?.neededSeqLen;
  const limit = useSession.getState().model?.config.maxPositionEmbeddings ?? Infinity;
  return { error: toShown(e), lengthFix: typeof needed === 'number' && needed > 0 ? { needed: Math.min(needed, limit) } : null };
}

export const useDataPanel = create<DataPanelState>()((set, get) => ({
  template: 'auto',
  maskPrompt: true,
  validationFraction: 0.1,
  columns: '',
  file: null,
  loadedFile: null,
  demoTemplate: false,
  loading: false,
  error: null,
  lengthFix: null,
  setOption(p) {
    set({ ...p, ...(p.template ? { demoTemplate: false } : {}) });
    void get().refresh();
  },
  setColumns(columns) {
    if (columns === get().columns) return;
    set({ columns });
    // The mapping is applied when the file is read: read the chosen file again.
    const { file } = get();
    if (file) void get().load(file);
  },
  async load(file, opts) {
    set({ loading: true, error: null, lengthFix: null, file });
    try {
      useSession.getState().setDataset(await studio().loadDataset(file, options(get()), { remember: opts?.remember ?? true }));
      set({ loadedFile: file });
    } catch (e) {
      // The previous dataset stays loaded: a bad upload never leaves the studio without data. A file
      // that only needs longer sequences stays the chosen one (a new length loads it); another is given up.
      const f = failure(e);
      set({ ...f, ...(f.lengthFix ? {} : { file: get().loadedFile }) });
    } finally {
      set({ loading: false });
    }
  },
  pick(file) {
    // The demo model's own short chat template suits any instruction file too; other templates
    // (Alpaca's preamble) may not fit the demo's short sequences.
    if (get().demoTemplate && !useSession.getState().model?.tokenizer.hasChatTemplate) set({ template: 'auto', demoTemplate: false });
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
      await get().load(new File([await res.blob()], 'dataset.jsonl', { type: 'application/jsonl' }), { remember: false });
    } catch (e) {
      set({ error: { name: 'Error', message: messageOf(e) }, loading: false });
    }
  },
  async refresh() {
    const { file, loadedFile } = get();
    if (file && file !== loadedFile) return get().load(file); // the chosen file failed before: try it again with the new options
    if (!useSession.getState().dataset) return;
    try {
      useSession.getState().setDataset(await studio().updateDatasetOptions(options(get())));
      set({ error: null, lengthFix: null });
    } catch (e) {
      set(failure(e));
    }
  },
  async applyLengthFix() {
    const fix = get().lengthFix;
    if (!fix) return;
    useRunConfig.getState().set('maxSeqLen', fix.needed); // the subscription below renders the chosen file
  },
}));

// The maximum sequence length and the seed are run settings (Configure): the chosen file follows them from any tab.
let timer: ReturnType<typeof setTimeout> | null = null;
useRunConfig.subscribe((s, prev) => {
  if (s.draft.maxSeqLen === prev.draft.maxSeqLen && s.draft.seed === prev.draft.seed) return;
  const len = Number(s.draft.maxSeqLen);
  const seed = Number(s.draft.seed);
  if (!Number.isInteger(len) || len < 1 || !Number.isInteger(seed) || seed < 0) return;
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => { timer = null; if (useSession.getState().model) void useDataPanel.getState().refresh(); }, 300);
});

// With the demo model in place, the demo dataset is selected too, whichever tab is open.
useSession.subscribe((s, prev) => {
  if (s.model === prev.model || !s.model || s.dataset || s.model.source !== 'demo') return;
  const data = useDataPanel.getState();
  if (!data.file && !data.loading) void data.loadDemo();
});
