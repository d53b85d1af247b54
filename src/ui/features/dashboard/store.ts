/** Dashboard view settings (persisted): smoothing of the loss curve, log scale. */
import { create } from 'zustand';
import { persist } from 'zustand/middleware';

interface DashboardView {
  smoothing: number;
  logLoss: boolean;
  set(p: Partial<Pick<DashboardView, 'smoothing' | 'logLoss'>>): void;
}

export const useDashboardView = create<DashboardView>()(persist((set) => ({
  smoothing: 0.8,
  logLoss: false,
  set: (p) => set(p),
}), { name: 'finetune-studio:dashboard', version: 1, partialize: (s) => ({ smoothing: s.smoothing, logLoss: s.logLoss }) }));
