/** What the page found when it asked the browser for WebGPU. */
export type WebGpuSupport =
  | { ok: true; vendor: string; architecture: string; description: string; features: string[]; maxBufferSize: number }
  | { ok: false; reason: 'no-api' | 'no-adapter' | 'error'; detail: string };

/** Ask for an adapter without creating a device: cheap, and enough to tell the person what they have. */
export async function detectWebGpu(nav: Navigator = navigator): Promise<WebGpuSupport> {
  if (!('gpu' in nav) || !nav.gpu) {
    return { ok: false, reason: 'no-api', detail: 'navigator.gpu is not defined in this browser.' };
  }
  try {
    const adapter = await nav.gpu.requestAdapter();
    if (!adapter) return { ok: false, reason: 'no-adapter', detail: 'The browser has WebGPU but offered no GPU adapter.' };
    const info = adapter.info;
    return {
      ok: true,
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
      features: [...adapter.features].sort(),
      maxBufferSize: adapter.limits.maxBufferSize,
    };
  } catch (e) {
    return { ok: false, reason: 'error', detail: e instanceof Error ? e.message : String(e) };
  }
}
