// The real-shape section of BENCHMARKS.md (scripts/bench-real/report.mjs) from bench/real.json:
// every part renders from its figures, a part never run says how to run it, and the acceptance
// lines follow the numbers (300 MB of JS heap in the browser, 2 GB of host memory, plan targets).
import { describe, expect, it } from 'vitest';
import { realMarkdown } from '../../scripts/bench-real/report.mjs';

const machine = { date: '2026-12-05T00:00:00.000Z', cores: 2, loadavgAtStart: [1, 1, 1], loadavgAtEnd: [2, 2, 2], durationS: 9 };
const plan = (total: number, largest: number, fits = true) => ({
  total_bytes: total, by_category: { weights: total / 2, activations: total / 4, lora: 1, grads: 1, optimizer: 1, workspace: 1 },
  largest_binding_bytes: largest, largest_binding: 'model.embed_tokens.weight', fits, problems: fits ? [] : ['too big'],
});

describe('real-shape report', () => {
  it('says which parts were never run', () => {
    const md = realMarkdown({});
    for (const part of ['load,chromium', 'train', 'accept', 'plan', 'chromium']) expect(md).toContain(`--only ${part}`);
  });

  it('renders every part, with the acceptance verdicts taken from the figures', () => {
    const node = { loadMs: 70_000, readBytes: 988e6, gpuBytes: 474e6, peakJsAboveIdleBytes: 76e6, peakRssBytes: 912e6 };
    const md = realMarkdown({
      load: { model: 'qwen2.5-0.5b', fileBytes: 988e6, gpu: node, cpu: { ...node, loadMs: 90_000 }, machine },
      chromium: {
        machine,
        load: {
          folder: 'qwen2.5-0.5b', format: 'nf4', downloadBytes: 988e6, downloadMs: 30_000, loadMs: 60_000, readBytes: 988e6, gpuBytes: 474e6, tensors: 290,
          memory: { idleHeapBytes: 4e6, idleArrayBufferBytes: 3e6, peakHeapBytes: 6e6, peakArrayBufferBytes: 310e6, peakTotalAboveIdleBytes: 309e6, samples: 100, page: { idleHeapBytes: 16e6, afterHeapBytes: 16e6 } },
        },
        peer: { tfjs: '4.22.0', trainable: { ours: 10, tfjs: 10 }, basis: 'device', oursMs: 3000, tfjsMs: 15000, oursWallMs: 12000, tfjsWallMs: 60000, firstLoss: { ours: 7.95, tfjs: 7.95 }, lastLoss: { ours: 7.8, tfjs: 7.8 }, steps: { ours: 3, tfjs: 3 } },
      },
      train: {
        matmul: { bestGflops: 2.2, bestWallGflops: 0.3 }, peakRssBytes: 2.3e9, machine,
        steps: [{ name: 'bf16', stepMs: [300_000], wallStepMs: [2_400_000], tokensPerS: 3.4, tokensPerSWall: 0.4, gflop: 560, mfu: 0.85, mfuWall: 0.78, planEqualsLedger: true, gpuBytes: 1.4e9, losses: [10.93, 10.9] }],
      },
      accept: { command: 'npm run cli -- train', run: { basePrecision: 'nf4' }, exitCode: 0, wallS: 900, peakRssBytes: 1.1e9, steps: ['step 1/2  loss 10.9'], load: 'base model on the GPU in 30 s', plan: 'memory plan: total 298 MiB', ledger: 'GPU memory after the build: 298 MiB (equal to the plan)', planEqualsLedger: true, error: null, machine },
      plan: { machine, rows: [{ name: 'Llama-3-8B QLoRA', run: {}, limitBytes: 6.5e9, adapter: plan(6.16e9, 512 * 2 ** 20), default: plan(6.16e9, 128 * 2 ** 20) }] },
    });
    expect(md).toContain('| Node (qwen2.5-0.5b) | GPU quantizer (streamed in 4 MiB chunks) | 70.0 | - | 942.2 |');
    expect(md).toContain('stays under 300 MB above idle: **NO**'); // 309e6 bytes
    expect(md).toContain('| bf16 | 300000 | 2400000 | 3.4 | 0.4 | 560 | 0.850 | yes |'); // MFU from device time only
    expect(md).toContain('**met**');
    expect(md).toContain('| Llama-3-8B QLoRA | 6.16 |');
    expect(md).toContain('yes (<= 6.50)');
    expect(md).toContain('tfjs / ours step time: **5.00x** (device), 5.00x (wall)');
  });
});
