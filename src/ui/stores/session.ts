/**
 * What the features share: the loaded model and dataset, whether a run is live, the open tab,
 * and a counter that says "the library changed" (a run finished, an adapter was imported).
 * Each feature keeps its own details in its own store.
 */
import { create } from 'zustand';
import type { DatasetSummary, ModelInfo } from '../../worker/api';

export const TABS = ['data', 'configure', 'train', 'sweep', 'runs', 'playground', 'adapters', 'storage'] as const;
export type Tab = (typeof TABS)[number];

export type TrainingState = 'idle' | 'running' | 'paused';

interface SessionState {
  tab: Tab;
  model: ModelInfo | null;
  dataset: DatasetSummary | null;
  training: TrainingState;
  libraryVersion: number;
  /** Adapter the playground should select next (set by "Try"; the playground takes it and clears it). */
  playgroundAdapter: string | null;
  /** Fully finetuned model the playground should select next (its "Try"), as playgroundAdapter. */
  playgroundFullModel: string | null;
  /** Adapter a new run starts from (the library's "Continue training"). */
  continueFrom: { id: string; name: string } | null;
  setTab(tab: Tab): void;
  setModel(m: ModelInfo | null): void;
  setDataset(d: DatasetSummary | null): void;
  setTraining(t: TrainingState): void;
  libraryChanged(): void;
  tryAdapter(id: string): void;
  tryFullModel(id: string): void;
  /** The playground took the adapter (or finetuned model) "Try" asked for. */
  tookPlaygroundAdapter(): void;
  continueTraining(a: { id: string; name: string } | null): void;
}

export const useSession = create<SessionState>()((set) => ({
  tab: 'data',
  model: null,
  dataset: null,
  training: 'idle',
  libraryVersion: 0,
  playgroundAdapter: null,
  playgroundFullModel: null,
  continueFrom: null,
  setTab: (tab) => set({ tab }),
  setModel: (model) => set({ model }),
  setDataset: (dataset) => set({ dataset }),
  setTraining: (training) => set({ training }),
  libraryChanged: () => set((s) => ({ libraryVersion: s.libraryVersion + 1 })),
  tryAdapter: (id) => set({ playgroundAdapter: id, playgroundFullModel: null, tab: 'playground' }),
  tryFullModel: (id) => set({ playgroundFullModel: id, playgroundAdapter: null, tab: 'playground' }),
  tookPlaygroundAdapter: () => set({ playgroundAdapter: null, playgroundFullModel: null }),
  continueTraining: (continueFrom) => set({ continueFrom, ...(continueFrom ? { tab: 'configure' as Tab } : {}) }),
}));
