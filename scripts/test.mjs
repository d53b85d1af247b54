// `npm test`: typecheck, unit + GPU tests (Vitest, WebGPU in Node), then the e2e flows (Playwright
// in headless Chromium with WebGPU). Stops at the first stage that fails.
import { spawnSync } from 'node:child_process';
import { prepareGpuEnvironment } from './gpu-env.mjs';

let env;
try {
  env = prepareGpuEnvironment();
} catch (e) {
  console.error(`\n${e.message}\n`);
  process.exit(1);
}
console.log(`[setup] browser: ${env.CHROME_PATH}${env.VK_ICD_FILENAMES ? `; Vulkan driver: ${env.VK_ICD_FILENAMES}` : ''}`);

const stages = [
  ['typecheck', ['npx', 'tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['unit and GPU tests', ['npx', 'vitest', 'run']],
  ['e2e (Playwright, headless Chromium + WebGPU)', ['npx', 'playwright', 'test']],
];
for (const [name, [cmd, ...args]] of stages) {
  console.log(`\n=== ${name} ===`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { stdio: 'inherit', env });
  console.log(`=== ${name}: ${r.status === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s ===`);
  if (r.status !== 0) process.exit(r.status ?? 1);
}
