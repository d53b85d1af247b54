import { useEffect, useState } from 'react';
import { detectWebGpu, type WebGpuSupport } from './features/shell/webgpu-support';
import { NoWebGpu } from './features/shell/NoWebGpu';

/** The studio shell: checks WebGPU first, then lays out the panels the features fill in. */
export function App() {
  const [support, setSupport] = useState<WebGpuSupport | null>(null);
  useEffect(() => {
    void detectWebGpu().then(setSupport);
  }, []);

  if (!support) return <p className="loading">Looking for a GPU…</p>;
  if (!support.ok) return <NoWebGpu support={support} />;
  return (
    <div className="studio">
      <header>
        <h1>WebGPU Finetuning Studio</h1>
        <p className="adapter" data-testid="adapter-info">
          GPU: {support.description || support.vendor || 'unknown'} ({support.architecture || 'unknown architecture'}) · max buffer{' '}
          {(support.maxBufferSize / 2 ** 20).toFixed(0)} MiB · {support.features.includes('shader-f16') ? 'f16' : 'f32 only'}
        </p>
      </header>
      <main>
        <section aria-label="Model">
          <h2>Model</h2>
          <p>Pick a base model: the bundled demo, a Hugging Face repo, or files on disk.</p>
        </section>
        <section aria-label="Data">
          <h2>Data</h2>
          <p>Pick a dataset: Alpaca JSON, chat JSONL, prompt/completion, CSV or plain text.</p>
        </section>
        <section aria-label="Configure">
          <h2>Configure</h2>
          <p>LoRA rank, alpha, targets, base precision, optimizer and schedule.</p>
        </section>
      </main>
    </div>
  );
}
