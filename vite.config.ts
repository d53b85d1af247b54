import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The studio is a static page plus one module worker; the demo model and dataset are served from public/.
export default defineConfig({
  plugins: [react()],
  // No SPA fallback: a missing file (model.safetensors.index.json of an unsharded model) must be a
  // 404, not index.html with status 200.
  appType: 'mpa',
  worker: { format: 'es' },
  server: { port: 5173, strictPort: false },
  preview: { port: 4173 },
  build: { target: 'es2022', sourcemap: true },
});
