// Headless Chromium with WebGPU, as the e2e tests (playwright.config.ts) and the bench
// (scripts/bench.mjs) launch it: one list, so both measure and test the same browser setup.
export const CHROMIUM_WEBGPU_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  // Same Dawn toggle as src/engine/node-gpu.ts: fast pipeline creation on SwiftShader.
  '--disable-dawn-features=use_vulkan_zero_initialize_workgroup_memory_extension',
];
