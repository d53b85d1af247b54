/**
 * A long session: five runs in a row in one page, on a Qwen2.5-shaped model (random bf16 weights,
 * the real config scaled down to about 3 MB) loaded from the Hub stand-in. After every run the
 * engine's ledger is back to zero (no live GPU buffer, no staging buffer), and after the first run
 * neither the GPU process nor the studio worker grows by more than 5% from one run to the next.
 * The GPU process is counted without SwiftShader's fiber stacks (the CPU device's scheduler keeps
 * as many as were ever blocked at once, a high-water mark of thread timing; shown apart).
 * The runs take 2 steps with a 5-step warmup, cut to the run: it never blocks one.
 *
 * Opt-in, the whole Qwen2.5-0.5B shape (988 MB of bf16 weights, NF4 base, 16-token sequences; takes
 * many minutes on SwiftShader), writing its figures to bench/memory-runs.md:
 *   E2E_MEMORY_FULL=1 npx playwright test e2e/memory-five-runs.spec.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { HubServer } from '../tests/helpers/hub-server';
import { qwen25HalfBConfig, qwenScaledConfig, qwenShapedFiles, tokenDatasetJsonl } from '../tests/helpers/qwen-shaped';
import { withRunSettings } from './helpers';
import { memoryProbe, type MemoryFigures, type MemoryPeaks } from './process-memory';

const FULL = !!process.env.E2E_MEMORY_FULL;
const RUNS = 5;
const GROWTH = 1.05;
const REPO = FULL ? 'memtest/qwen2.5-0.5b-random' : 'memtest/qwen2.5-scaled';
/**
 * Two steps on the studio's defaults otherwise, with a warmup (5 steps) longer than the run: it is
 * cut to the run, never blocking it. Shorter micro-batches and two LoRA targets, for time. The
 * opt-in run: NF4 as QLoRA, one 16-token row, no validation (each evaluation of 0.5B takes minutes here).
 */
const SETTINGS = {
  maxSteps: 2, schedule: 'warmup-cosine', warmupSteps: 5, targets: ['query', 'value'],
  ...(FULL ? { basePrecision: 'nf4', microBatch: 1, maxSeqLen: 16, evalEvery: 0 } : { microBatch: 4, maxSeqLen: 32 }),
};
/** Rows of token ids (40 of 33 tokens: 4 held out for validation), so each run's cost does not follow the demo dataset's size. */
const DATA = FULL ? tokenDatasetJsonl(16, 17) : tokenDatasetJsonl(40, 33);

const RUN_TIMEOUT = FULL ? 1_800_000 : 120_000;
test.describe.configure({ timeout: FULL ? 4 * 3_600_000 : 180_000 });

const mb = (b: number | null) => (b === null ? '-' : (b / 2 ** 20).toFixed(1));

function table(rows: { after: MemoryFigures; peak: MemoryPeaks }[]): string {
  return [
    '| run | after: GPU process RSS (MiB) | of it, SwiftShader fiber stacks (MiB) | after: worker JS heap (MiB) | after: worker ArrayBuffers (MiB) | after: ledger, live GPU buffers (bytes, count) | after: staging buffers (bytes) | peak during the run: GPU process, worker heap, worker ArrayBuffers (MiB) |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(({ after: r, peak: p }, i) => `| ${i + 1} | ${mb(r.gpuProcessBytes)} | ${mb(r.cpuDeviceStackBytes)} | ${mb(r.workerHeapBytes)} | ${mb(r.workerArrayBufferBytes)} | ${r.ledger.bytes}, ${r.ledger.buffers} | ${r.ledger.stagingBytes} | ` +
      `${mb(p.gpuProcessBytes)}, ${mb(p.workerHeapBytes)}, ${mb(p.workerArrayBufferBytes)} |`),
  ].join('\n');
}

/** Press Train (or Train again) on the Train tab and wait for the run to end. */
async function trainOnce(page: Page): Promise<void> {
  await page.getByRole('tab', { name: 'Train' }).click();
  await page.getByRole('button', { name: /^(Train|Train again)$/ }).first().click();
  await expect(page.getByTestId('run-done')).toBeVisible({ timeout: RUN_TIMEOUT });
}

test('five runs in a row give their memory back: ledger zero, GPU process and worker flat', async ({ page, browser }) => {
  const hf = FULL ? qwen25HalfBConfig() : qwenScaledConfig();
  const hub = await new HubServer({ [REPO]: { files: qwenShapedFiles(hf) } }).start();
  try {
    await withRunSettings(page, SETTINGS);
    await page.goto('/');
    await expect(page.getByTestId('model-info')).toContainText('studio-demo', { timeout: 60_000 });
    await page.locator('label', { hasText: 'Hugging Face repo' }).click();
    await page.getByLabel('Repo id').fill(REPO);
    await page.getByLabel('Hub address').fill(hub.url);
    await page.getByRole('button', { name: 'Load model' }).click();
    await expect(page.getByTestId('model-info')).toContainText(REPO, { timeout: FULL ? 600_000 : 60_000 });
    await page.getByLabel('Dataset file', { exact: true }).setInputFiles({ name: 'tokens.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(DATA) });
    await expect(page.getByTestId('dataset-info')).toContainText('tokens.jsonl', { timeout: 60_000 });

    const probe = await memoryProbe(page, browser);
    const rows: { after: MemoryFigures; peak: MemoryPeaks }[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const watch = probe.watchPeaks();
      await trainOnce(page);
      const peak = await watch.stop();
      await expect(page.getByTestId('run-status')).toHaveText('done');
      const m = await probe.measure();
      rows.push({ after: m, peak });
      console.log(`after run ${run}: GPU process ${mb(m.gpuProcessBytes)} MiB (SwiftShader fiber stacks ${mb(m.cpuDeviceStackBytes)}), worker heap ${mb(m.workerHeapBytes)} MiB + ArrayBuffers ${mb(m.workerArrayBufferBytes)} MiB, ledger ${JSON.stringify(m.ledger)}`);
    }
    const after = rows.map((r) => r.after);
    const report = table(rows);
    console.log(`\n${report}\n`);
    if (FULL) {
      mkdirSync('bench', { recursive: true });
      writeFileSync('bench/memory-runs.md', `## Memory over five runs in one page (Qwen2.5-0.5B shape)\n\n` +
        `\`E2E_MEMORY_FULL=1 npx playwright test e2e/memory-five-runs.spec.ts\`, ${new Date().toISOString()}: random bf16 weights with ` +
        `Qwen2.5-0.5B's config (988 MB), served by the Hub stand-in; each run ${JSON.stringify(SETTINGS)} on the defaults, in headless ` +
        `Chromium on SwiftShader. Figures after each run, the worker's after a forced garbage collection. SwiftShader's fiber stacks ` +
        `(its task scheduler keeps as many as were ever blocked at once) are shown apart: a GPU has none.\n\n${report}\n`);
    }

    for (const [i, m] of after.entries()) {
      expect(m.ledger, `the engine's ledger after run ${i + 1}`).toEqual({ bytes: 0, buffers: 0, stagingBytes: 0, stagingBuffers: 0 });
      if (i === 0) continue;
      const prev = after[i - 1];
      const worker = (x: MemoryFigures) => x.workerHeapBytes + x.workerArrayBufferBytes;
      expect(worker(m), `the worker's memory after run ${i + 1} against run ${i}`).toBeLessThanOrEqual(worker(prev) * GROWTH);
      // The GPU process without the CPU device's fiber stacks: their pool grows with thread timing alone.
      const gpu = (x: MemoryFigures) => x.gpuProcessBytes! - x.cpuDeviceStackBytes;
      if (m.gpuProcessBytes !== null && prev.gpuProcessBytes !== null) {
        expect(gpu(m), `the GPU process after run ${i + 1} against run ${i}`).toBeLessThanOrEqual(gpu(prev) * GROWTH);
      }
    }
  } finally {
    await hub.close();
  }
});
