/** The studio's layout: header with the GPU, a tab per task, the open tab's panels. */
import { useRef, type KeyboardEvent } from 'react';
import type { WebGpuSupport } from './features/shell/webgpu-support';
import { AdaptersPanel } from './features/adapters/AdaptersPanel';
import { ConfigPanel } from './features/config/ConfigPanel';
import { Dashboard } from './features/dashboard/Dashboard';
import { DataPanel } from './features/data/DataPanel';
import { ModelPanel } from './features/model/ModelPanel';
import { Playground } from './features/playground/Playground';
import { RunsPanel } from './features/runs/RunsPanel';
import { ResumeBanner } from './features/resume/ResumeBanner';
import { StoragePanel } from './features/storage/StoragePanel';
import { SweepPanel } from './features/sweep/SweepPanel';
import { SweepResumeOffer } from './features/sweep/SweepResumeOffer';
import { useSweep } from './features/sweep/store';
import { OtherTabBanner } from './features/tabs/OtherTabBanner';
import { ErrorBoundary } from './components/ErrorBoundary';
import { UndoNotice } from './components/UndoNotice';
import { useLiveRun } from './stores/live-run';
import { TABS, useSession, type Tab } from './stores/session';

const LABELS: Record<Tab, string> = {
  data: 'Model & data', configure: 'Configure', train: 'Train', sweep: 'Sweep', runs: 'Runs', playground: 'Playground', adapters: 'Adapters', storage: 'Storage',
};

function TabBar() {
  const tab = useSession((s) => s.tab);
  const setTab = useSession((s) => s.setTab);
  const status = useLiveRun((s) => s.status);
  const sweeping = useSweep((s) => s.live !== null);
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  // Arrow keys move between tabs (the ARIA tabs pattern); Tab moves into the panel.
  const onKey = (e: KeyboardEvent) => {
    const i = TABS.indexOf(tab);
    const next = e.key === 'ArrowRight' ? TABS[(i + 1) % TABS.length] : e.key === 'ArrowLeft' ? TABS[(i - 1 + TABS.length) % TABS.length]
      : e.key === 'Home' ? TABS[0] : e.key === 'End' ? TABS[TABS.length - 1] : null;
    if (!next) return;
    e.preventDefault();
    setTab(next);
    refs.current[next]?.focus();
  };
  return (
    <nav role="tablist" aria-label="Studio sections" className="tabs" onKeyDown={onKey}>
      {TABS.map((t) => (
        <button key={t} ref={(el) => { refs.current[t] = el; }} type="button" role="tab" id={`tab-${t}`} aria-controls="panel" aria-selected={tab === t}
          tabIndex={tab === t ? 0 : -1} onClick={() => setTab(t)}>
          {LABELS[t]}
          {t === 'train' && (status === 'training' || status === 'starting') && <span className="dot" aria-label="(training)" />}
          {t === 'train' && status === 'paused' && <span className="dot paused" aria-label="(paused)" />}
          {t === 'sweep' && sweeping && <span className="dot" aria-label="(running)" />}
        </button>
      ))}
    </nav>
  );
}

// Dev server only: the e2e suite drives the stores directly (e.g. 10,000 points into the dashboard).
if (import.meta.env.DEV || import.meta.env.VITE_E2E_HOOKS) Object.assign(globalThis, { __stores: { liveRun: useLiveRun, session: useSession } });

export function Studio({ support }: { support: Extract<WebGpuSupport, { ok: true }> }) {
  const tab = useSession((s) => s.tab);
  return (
    <div className="studio">
      <header>
        <h1>WebGPU Finetuning Studio</h1>
        <p className="adapter" data-testid="adapter-info">
          GPU: {support.description || support.vendor || 'unknown'} ({support.architecture || 'unknown architecture'}) · max buffer{' '}
          {(support.maxBufferSize / 2 ** 20).toFixed(0)} MiB · {support.features.includes('shader-f16') ? 'f16' : 'f32 only'} · everything stays on this machine
        </p>
      </header>
      <OtherTabBanner />
      <ResumeBanner />
      <SweepResumeOffer />
      <TabBar />
      <main id="panel" role="tabpanel" aria-labelledby={`tab-${tab}`} tabIndex={-1}>
        <ErrorBoundary resetKey={tab}>
        {tab === 'data' && <div className="two-col"><ModelPanel /><DataPanel /></div>}
        {tab === 'configure' && <ConfigPanel />}
        {tab === 'train' && <Dashboard />}
        {tab === 'sweep' && <SweepPanel />}
        {tab === 'runs' && <RunsPanel />}
        {tab === 'playground' && <Playground />}
        {tab === 'adapters' && <AdaptersPanel />}
        {tab === 'storage' && <StoragePanel />}
        </ErrorBoundary>
      </main>
      <UndoNotice />
    </div>
  );
}
