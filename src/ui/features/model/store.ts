/** The model panel: which source is chosen, what is typed, per-file progress, the last error. */
import { create } from 'zustand';
import type { FileProgress, ModelSourceSpec } from '../../../worker/api';
import { callback, studio } from '../../client';
import { toShown } from '../../components/ErrorBox';
import { useSession } from '../../stores/session';

export type SourceKind = 'demo' | 'hub' | 'files';

interface ModelPanelState {
  kind: SourceKind;
  repo: string;
  token: string;
  /** The Hub's address; '' = huggingface.co. */
  endpoint: string;
  files: File[];
  loading: boolean;
  progress: Record<string, FileProgress>;
  error: { name: string; message: string } | null;
  set(p: Partial<Pick<ModelPanelState, 'kind' | 'repo' | 'token' | 'endpoint' | 'files'>>): void;
  load(spec?: ModelSourceSpec): Promise<void>;
}

export const useModelPanel = create<ModelPanelState>()((set, get) => ({
  kind: 'demo',
  repo: '',
  token: '',
  endpoint: '',
  files: [],
  loading: false,
  progress: {},
  error: null,
  set: (p) => set(p),
  async load(spec) {
    const s = get();
    const source: ModelSourceSpec = spec ?? (s.kind === 'demo' ? { kind: 'demo' }
      : s.kind === 'hub' ? { kind: 'hub', repo: s.repo.trim(), ...(s.token.trim() ? { token: s.token.trim() } : {}), ...(s.endpoint.trim() ? { endpoint: s.endpoint.trim() } : {}) }
      : { kind: 'files', files: s.files });
    set({ loading: true, error: null, progress: {} });
    try {
      const info = await studio().loadModel(source, callback((p: FileProgress) => set((st) => ({ progress: { ...st.progress, [p.file]: p } }))));
      useSession.getState().setModel(info);
      // The worker tokenized the dataset again with this model's tokenizer (or dropped it).
      useSession.getState().setDataset(await studio().datasetSummary());
    } catch (e) {
      set({ error: toShown(e) });
    } finally {
      set({ loading: false });
    }
  },
}));
