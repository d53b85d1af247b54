import { defineConfig } from '@playwright/test';
import { CHROMIUM_WEBGPU_ARGS } from './scripts/chromium-args.mjs';

// Headless Chromium with WebGPU. scripts/test.mjs sets CHROME_PATH (an installed browser; nothing is
// downloaded). On a machine without a GPU, Chromium's WebGPU runs on SwiftShader.
const executablePath = process.env.CHROME_PATH ?? '/usr/bin/chromium';
const port = Number(process.env.E2E_PORT ?? 5199);
// Parallel sessions on one machine each build into their own folder (E2E_OUT_DIR) on their own port.
const outDir = process.env.E2E_OUT_DIR ?? 'dist-e2e';

export default defineConfig({
  testDir: 'e2e',
  timeout: 120_000,
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath,
      args: CHROMIUM_WEBGPU_ARGS,
    },
  },
  // The production build, as a person gets it (and immune to source edits: a dev server would reload
  // the page mid-test whenever a file changes), with the test hooks (window.__studio, __stores) on.
  webServer: {
    command: `VITE_E2E_HOOKS=1 npx vite build --outDir ${outDir} --emptyOutDir --logLevel warn && npx vite preview --outDir ${outDir} --port ${port} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
  },
});
