// `npm run bench`: serve bench.html with Vite, open it in headless Chromium with WebGPU (the
// browser setup of playwright.config.ts), wait for the page's measurements, then print the summary
// table and write bench/results.json and BENCHMARKS.md. `npm run bench -- --quick` runs a tiny
// model to check the harness (it writes test-results/bench-quick.json and leaves BENCHMARKS.md alone).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { gpuProcessCpuMs, gpuProcessRssBytes } from './bench-cpu.mjs';
import { CHROMIUM_WEBGPU_ARGS } from './chromium-args.mjs';
import { prepareGpuEnvironment } from './gpu-env.mjs';

// --real: the bench at real shapes (scripts/bench-real/run.mjs), a separate, long run.
if (process.argv.includes('--real')) {
  const { runReal } = await import('./bench-real/run.mjs');
  process.exit(await runReal(process.argv).catch((e) => (console.error(`\nbench --real failed: ${e.message}`), 1)));
}

const quick = process.argv.includes('--quick');
const TIMEOUT_MS = 15 * 60_000;
const started = Date.now();
const round = (xs) => xs.map((x) => Math.round(x * 100) / 100);

let env;
try {
  env = prepareGpuEnvironment();
} catch (e) {
  console.error(`\n${e.message}\n`);
  process.exit(1);
}
const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadavgAtStart: round(loadavg()) };

// No HMR and no file watching: an edit while the bench runs must not reload the page mid-measurement.
const server = await createServer({
  logLevel: 'warn',
  server: { host: '127.0.0.1', port: Number(process.env.BENCH_PORT ?? 5198), strictPort: false, hmr: false, watch: null },
});
await server.listen();
// --gpu-limits default: the device gets WebGPU's default limits (a small device's), not the adapter's.
const limitsAt = process.argv.indexOf('--gpu-limits');
const params = new URLSearchParams();
if (quick) params.set('quick', '');
if (limitsAt >= 0) params.set('gpu-limits', process.argv[limitsAt + 1] ?? '');
const url = `${server.resolvedUrls.local[0]}bench.html${params.size ? `?${params}` : ''}`;
// A browser server, so that its process id is known: the GPU process's CPU time is read from /proc.
const browserServer = await chromium.launchServer({
  executablePath: env.CHROME_PATH,
  // Precise performance.memory: the page's JS heap after each configuration (host memory per run).
  args: [...CHROMIUM_WEBGPU_ARGS, '--enable-precise-memory-info'],
});
const browser = await chromium.connect(browserServer.wsEndpoint());
let code = 0;
try {
  const page = await browser.newPage();
  await page.exposeFunction('__benchGpuCpuMs', gpuProcessCpuMs(browserServer.process().pid));
  await page.exposeFunction('__benchGpuRssBytes', gpuProcessRssBytes(browserServer.process().pid));
  page.on('console', (m) => {
    const t = m.text();
    if (t.startsWith('[bench]')) console.log(`${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s ${t}`);
    else if (m.type() === 'error') console.error(`[page] ${t}`);
  });
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  console.log(`[bench] ${url} in ${env.CHROME_PATH}`);
  await page.goto(url);
  await page.waitForFunction(() => window.__bench && window.__bench.state !== 'running', undefined, { timeout: TIMEOUT_MS, polling: 1000 });
  const state = await page.evaluate(() => ({ state: window.__bench.state, error: window.__bench.error }));
  if (state.state !== 'done') throw new Error(`the bench page failed: ${state.error}`);
  machine.loadavgAtEnd = round(loadavg());
  const command = 'npm run bench';
  const durationS = (Date.now() - started) / 1000;
  const report = await page.evaluate((extra) => window.__bench.report(extra), { durationS, machine, command });
  mkdirSync('bench', { recursive: true });
  mkdirSync('test-results', { recursive: true });
  writeFileSync(quick ? 'test-results/bench-quick.json' : 'bench/results.json', report.json + '\n');
  // bench/history.md (kept by hand: kernel changes measured before and after) follows the latest figures.
  const history = existsSync('bench/history.md') ? `\n${readFileSync('bench/history.md', 'utf8')}` : '';
  // bench/real.md (written by `npm run bench -- --real`) keeps the real-shape figures between runs.
  const real = existsSync('bench/real.md') ? `\n${readFileSync('bench/real.md', 'utf8')}` : '';
  // bench/memory-runs.md (written by the opt-in E2E_MEMORY_FULL=1 run of e2e/memory-five-runs.spec.ts) likewise.
  const memoryRuns = existsSync('bench/memory-runs.md') ? `\n${readFileSync('bench/memory-runs.md', 'utf8')}` : '';
  if (!quick) writeFileSync('BENCHMARKS.md', report.markdown + real + memoryRuns + history);
  console.log(`\n${report.table}\n`);
  console.log(`wrote ${quick ? 'test-results/bench-quick.json' : 'bench/results.json and BENCHMARKS.md'} in ${durationS.toFixed(0)} s`);
} catch (e) {
  console.error(`\nbench failed: ${e.message}`);
  code = 1;
} finally {
  await browser.close();
  await browserServer.close();
  await server.close();
}
process.exit(code);
