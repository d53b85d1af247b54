/**
 * A long session through the CLI's engine: five training runs one after another on one WebGPU
 * device (Dawn in this process), on a Qwen2.5-shaped model (random bf16 weights, the real config
 * scaled down). After every run the device holds no buffer of any pool and no staging buffer, and
 * after the first run this process (Dawn's memory included) and its JS heap and ArrayBuffers do not
 * grow by more than 5% from one run to the next. Validation runs at the start and the end of each
 * run, so evaluation's buffers are checked too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetOptions } from '../../src/cli/commands/data';
import { trainRun } from '../../src/cli/commands/train-run';
import { deviceMemory } from '../../src/engine/pool';
import { testGpu } from '../gpu/gpu';
import { qwenScaledConfig, qwenShapedFiles, tokenDatasetJsonl } from '../helpers/qwen-shaped';

const dir = mkdtempSync(join(tmpdir(), 'memory-runs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const RUNS = 5;
const GROWTH = 1.05;

describe('five training runs on one device', () => {
  it('give back every buffer, and the process and its heap stay flat after the first run', async () => {
    const gpu = await testGpu();
    if (!gpu) return;
    // Smaller than the e2e's (hidden 64, 2 layers): Dawn on SwiftShader in this process is slower.
    for (const [name, bytes] of Object.entries(qwenShapedFiles(qwenScaledConfig({ hidden: 64, layers: 2, vocab: 512 })))) writeFileSync(join(dir, name), bytes);
    const data = join(dir, 'train.jsonl');
    writeFileSync(data, tokenDatasetJsonl(20, 17));
    const figures: { rss: number; heap: number }[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const r = await trainRun({
        modelSpec: dir, dataFile: data, gpu, out: join(dir, `run-${run}`), log: () => undefined,
        config: { maxSteps: 2, microBatch: 2, maxSeqLen: 16, evalEvery: 2, warmupSteps: 2 },
        dataOptions: { ...datasetOptions({}), validationFraction: 0.2 },
      });
      expect(r.evalLosses.length, 'validation ran').toBeGreaterThan(0);
      expect(deviceMemory(gpu.device), `the device after run ${run}`).toEqual({ bytes: 0, buffers: 0, stagingBytes: 0, stagingBuffers: 0 });
      // Collected twice around a pause: GPU objects the first collection frees are let go by Dawn meanwhile.
      gc();
      await new Promise((resolve) => setTimeout(resolve, 300));
      gc();
      const m = process.memoryUsage();
      figures.push({ rss: m.rss, heap: m.heapUsed + m.arrayBuffers });
    }
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    console.log(`after each run: ${figures.map((f, i) => `#${i + 1} rss ${mib(f.rss)} MiB, heap + ArrayBuffers ${mib(f.heap)} MiB`).join('; ')}`);
    for (let i = 1; i < RUNS; i++) {
      expect(figures[i].rss, `process memory after run ${i + 1} against run ${i}`).toBeLessThanOrEqual(figures[i - 1].rss * GROWTH);
      expect(figures[i].heap, `JS heap and ArrayBuffers after run ${i + 1} against run ${i}`).toBeLessThanOrEqual(figures[i - 1].heap * GROWTH);
    }
  }, 240_000);
});
