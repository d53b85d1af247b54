/** The playground: prompt and sampling settings (persisted), the two outputs (base, and adapter or finetuned model) streaming side by side. */
import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { GenerateRequest, GenerateResult } from '../../../worker/api';
import { callback, studio } from '../../client';
import { toShown } from '../../components/ErrorBox';

export interface Output {
  text: string;
  running: boolean;
  result: GenerateResult | null;
  error: { name: string; message: string } | null;
}

const empty: Output = { text: '', running: false, result: null, error: null };

interface PlaygroundState {
  prompt: string;
  adapterId: string | null;
  /** A fully finetuned model instead of an adapter (adapterId is then null). */
  fullModelId: string | null;
  temperature: number;
  topK: number;
  topP: number;
  maxNewTokens: number;
  seed: number;
  stopAtEos: boolean;
  useTemplate: boolean;
  base: Output;
  tuned: Output;
  set(p: Partial<Omit<PlaygroundState, 'base' | 'tuned' | 'set' | 'select' | 'run' | 'stop'>>): void;
  /** Choose the adapter, or a finetuned model; the outputs of another one are cleared (they would be labelled with this one). */
  select(adapterId: string | null, fullModelId?: string | null): void;
  run(): Promise<void>;
  stop(): Promise<void>;
}

export const usePlayground = create<PlaygroundState>()(persist((set, get) => {
  const one = async (which: 'base' | 'tuned', adapterId: string | null, fullModelId: string | null = null) => {
    const s = get();
    const req: GenerateRequest = {
      prompt: s.prompt, adapterId, fullModelId, useTemplate: s.useTemplate, maxNewTokens: s.maxNewTokens, temperature: s.temperature,
      topK: s.topK, topP: s.topP, seed: s.seed, stopAtEos: s.stopAtEos,
    };
    set({ [which]: { ...empty, running: true } } as Partial<PlaygroundState>);
    try {
      const result = await studio().generate(req, callback((delta: string) => set((st) => ({ [which]: { ...st[which], text: st[which].text + delta } }) as Partial<PlaygroundState>)));
      set({ [which]: { text: result.text, running: false, result, error: null } } as Partial<PlaygroundState>);
    } catch (e) {
      set((st) => ({ [which]: { ...st[which], running: false, error: toShown(e) } }) as Partial<PlaygroundState>);
    }
  };
  return {
    prompt: '',
    adapterId: null,
    fullModelId: null,
    temperature: 0,
    topK: 0,
    topP: 1,
    maxNewTokens: 48,
    seed: 0,
    stopAtEos: true,
    useTemplate: true,
    base: empty,
    tuned: empty,
    set: (p) => set(p),
    select: (adapterId, fullModelId = null) => set((s) => (s.adapterId === adapterId && s.fullModelId === fullModelId ? {} : { adapterId, fullModelId, base: empty, tuned: empty })),
    async run() {
      const { adapterId, fullModelId } = get();
      await Promise.all([one('base', null), adapterId || fullModelId ? one('tuned', adapterId, fullModelId) : Promise.resolve(set({ tuned: empty }))]);
    },
    stop: () => studio().stopGenerating(),
  };
}, {
  name: 'finetune-studio:playground',
  version: 1,
  partialize: (s) => ({ prompt: s.prompt, temperature: s.temperature, topK: s.topK, topP: s.topP, maxNewTokens: s.maxNewTokens, seed: s.seed, stopAtEos: s.stopAtEos, useTemplate: s.useTemplate }),
}));
