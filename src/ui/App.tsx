import { useEffect, useState } from 'react';
import { detectWebGpu, type WebGpuSupport } from './features/shell/webgpu-support';
import { NoWebGpu } from './features/shell/NoWebGpu';
import { Studio } from './Studio';

/** The studio shell: checks WebGPU first; without it, a page that says what is missing. */
export function App() {
  const [support, setSupport] = useState<WebGpuSupport | null>(null);
  useEffect(() => {
    void detectWebGpu().then(setSupport);
  }, []);

  if (!support) return <p className="loading">Looking for a GPU…</p>;
  if (!support.ok) return <NoWebGpu support={support} />;
  return <Studio support={support} />;
}
