import { defineConfig } from 'vitest/config';

// Unit and GPU tests run in Node; GPU tests reach WebGPU through the `webgpu` package (Dawn),
// which scripts/test.mjs points at SwiftShader when the machine has no GPU.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
