import type { WebGpuSupport } from './webgpu-support';

/** Shown instead of the studio when the browser cannot give us a GPU: say what is missing and how to get it. */
export function NoWebGpu({ support }: { support: Extract<WebGpuSupport, { ok: false }> }) {
  return (
    <main className="no-webgpu" role="alert" aria-labelledby="no-webgpu-title">
      <h1 id="no-webgpu-title">This browser cannot run the studio: WebGPU is not available</h1>
      <p>{support.detail}</p>
      <ul>
        <li>Use Chrome or Edge 113 or newer (desktop), or Chrome 121+ on Android.</li>
        <li>On Linux, WebGPU may need <code>chrome://flags/#enable-unsafe-webgpu</code> and <code>chrome://flags/#enable-vulkan</code> turned on.</li>
        <li>Firefox 141+ on Windows and Safari 26+ also ship WebGPU; older versions need it enabled in their settings.</li>
        <li>Check <code>chrome://gpu</code>: "WebGPU: Hardware accelerated" is what you want. A blocklisted GPU driver also disables it.</li>
      </ul>
    </main>
  );
}
