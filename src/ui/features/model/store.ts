/** The model panel: which source is chosen, what is typed, per-file progress, the last error. */
import { create } from 'zustand';
import { TransferRate } from '../../../core/transfer-rate';
import type { FileProgress, ModelSourceSpec, TransferFigures } from '../../../worker/api';
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
  /** Rate and time left of each file being downloaded (none for files from the cache). */
  rates: Record<string, TransferFigures>;
  error: { name: string; message: string } | null;
  /** Keep the access token in this browser with the repo (off: it is used for this load only). */
  rememberToken: boolean;
  /** The revision the last Hub load used (kept with the repo; '' = main). */
  revision: string;
  set(p: Partial<Pick<ModelPanelState, 'kind' | 'repo' | 'token' | 'endpoint' | 'files' | 'rememberToken' | 'revision'>>): void;
  /** `remember: false` for loads the studio makes by itself (the demo at start): not offered after a reload. */
  load(spec?: ModelSourceSpec, opts?: { remember?: boolean }): Promise<void>;
}

export const useModelPanel = create<ModelPanelState>()((set, get) => ({
  kind: 'demo',
  repo: '',
  token: '',
  endpoint: '',
  files: [],
  loading: false,
  progress: {},
  rates: {},
  error: null,
  rememberToken: false,
  revision: '',
  set: (p) => set(p),
  async load(spec, opts) {
    const s = get();
    const token = s.token.trim() ? { token: s.token.trim(), ...(s.rememberToken ? { rememberToken: true } : {}) } : {};
    const source: ModelSourceSpec = spec ?? (s.kind === 'demo' ? { kind: 'demo' }
      : s.kind === 'hub' ? { kind: 'hub', repo: s.repo.trim(), ...(s.revision.trim() ? { revision: s.revision.trim() } : {}), ...token, ...(s.endpoint.trim() ? { endpoint: s.endpoint.trim() } : {}) }
      : { kind: 'files', files: s.files });
    set({ loading: true, error: null, progress: {}, rates: {} });
    const meters = new Map<string, TransferRate>();
    const onProgress = (p: FileProgress) => set((st) => {
      if (p.cached || p.deferred) return { progress: { ...st.progress, [p.file]: p } };
      let m = meters.get(p.file);
      if (!m) meters.set(p.file, (m = new TransferRate()));
      return { progress: { ...st.progress, [p.file]: p }, rates: { ...st.rates, [p.file]: m.update(p.loaded, p.total) } };
    });
    try {
      const info = await studio().loadModel(source, callback(onProgress), { remember: opts?.remember ?? true });
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
