/**
 * The benchmark page (bench.html): runs every measurement on this browser's WebGPU adapter and
 * leaves the results on `window` for scripts/bench.mjs, which drives it in headless Chromium.
 * Progress goes to the console as `[bench] ...` lines. `?quick` runs a tiny model (a smoke test of
 * the harness, not figures to keep).
 */
import { createEngine } from '../engine/context';
import { acquireGpu } from '../engine/device';
import { PipelineCache } from '../engine/pipelines';
import { moduleShape } from '../config/lora-targets';
import { tinyWeights } from '../model/synthetic';
import { benchFamilies, benchSetup } from './bench-model';
import { markdown, summaryTable } from './format';
import { benchMatmulShapes, benchMatmuls } from './matmul-bench';
import { buildResults, STEP_NAMES, type Measured } from './report';
import { prepareStepBench, type StepConfig, type StepResult } from './step-bench';
import { realMain } from './real-main';
import { tfjsWebgpu } from './tfjs-matmul.js';
import type { BenchTiming } from './timing';
import { benchWeightFormats } from './weight-bench';

declare global {
  interface Window {
    /** Set by scripts/bench.mjs: CPU ms of the browser's GPU process so far (null off Linux). */
    __benchGpuCpuMs?: () => Promise<number | null>;
    /** Set by scripts/bench.mjs: resident bytes of the browser's GPU process (null off Linux). */
    __benchGpuRssBytes?: () => Promise<number | null>;
    __bench?: {
      state: 'running' | 'done' | 'failed';
      error?: string;
      /** The results file, BENCHMARKS.md and the console table, given what the runner knows. */
      report?: (extra: { durationS: number; machine: Record<string, unknown>; command: string }) => { json: string; markdown: string; table: string };
    };
  }
}

const log = (line: string) => console.log(`[bench] ${line}`);

/** The host's memory after a configuration gave its buffers back: the GPU process and this page's JS heap. */
async function hostMemory(): Promise<StepResult['hostMemory']> {
  const heap = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? null;
  return { gpuProcessBytes: window.__benchGpuRssBytes ? await window.__benchGpuRssBytes() : null, pageHeapBytes: heap };
}

const STEP_CONFIGS: StepConfig[] = [
  { name: STEP_NAMES.base, over: { basePrecision: 'f16' }, profile: true },
  { name: STEP_NAMES.nf4, over: { basePrecision: 'nf4' } },
  { name: STEP_NAMES.nf4dq, over: { basePrecision: 'nf4', doubleQuant: true } },
  { name: STEP_NAMES.ckpt, over: { basePrecision: 'f16', activationCheckpointing: true } },
];

async function main(): Promise<void> {
  window.__bench = { state: 'running' };
  const quick = new URLSearchParams(location.search).has('quick');
  const setup = benchSetup(quick);
  // ?gpu-limits=default (npm run bench -- --gpu-limits default): WebGPU's default limits.
  const gpu = await acquireGpu(navigator.gpu, { limits: new URLSearchParams(location.search).get('gpu-limits') === 'default' ? 'default' : 'adapter' });
  gpu.onFault((e) => log(`GPU fault: ${e.message}`));
  log(`adapter: ${JSON.stringify(gpu.adapterInfo)}; features ${JSON.stringify(gpu.features)}`);
  const engine = createEngine(gpu);
  // On SwiftShader the GPU process's threads are the device: time it by their CPU time (see timing.ts).
  const clock = async () => (window.__benchGpuCpuMs ? window.__benchGpuCpuMs() : null);
  const cpuDevice = gpu.adapterInfo.architecture === 'swiftshader' && (await clock()) !== null;
  const timing: BenchTiming = {
    clock: cpuDevice ? clock : async () => null, cores: navigator.hardwareConcurrency || 1, minMeasureMs: 250,
    basis: cpuDevice ? 'device' : 'wall',
  };
  log(`timing basis: ${timing.basis}${cpuDevice ? ` (GPU-process CPU time / ${timing.cores} cores)` : ''}`);

  const tfjs = await tfjsWebgpu();
  log(tfjs.ok ? `tfjs ${tfjs.version} on webgpu` : `tfjs unavailable: ${tfjs.reason}`);
  const matmul = await benchMatmuls(engine, benchMatmulShapes(setup.model, setup.tokens), { timing, budgetMs: setup.kernelBudgetMs, rounds: setup.kernelRounds, tfjs: tfjs.ok, log });

  const gate = moduleShape('gate_proj', setup.model);
  const weightMatmul = await benchWeightFormats(engine, gate.out, gate.in, setup.tokens, timing, setup.kernelBudgetMs, setup.kernelRounds, log);
  engine.pool.destroyAll();

  // Every configuration is built first, then their steps interleave: warm-up round, timed rounds.
  const ctx = {
    gpu, pipelines: new PipelineCache(gpu), model: setup.model, weights: tinyWeights(setup.model, 3),
    base: setup.run, steps: setup.steps, timing, log,
  };
  // The same 16-bit step on the bench sizes as a Qwen3 and as a Gemma 3: what each family costs.
  const families: StepConfig[] = benchFamilies(setup.model, setup.tokens / (setup.run.microBatch ?? 1)).map((f) => ({
    name: `${STEP_NAMES.base} ${f.name}`, over: { basePrecision: 'f16' }, model: { config: f.model, weights: tinyWeights(f.model, 3) },
  }));
  const benches = [];
  for (const cfg of [...STEP_CONFIGS, ...families]) benches.push(await prepareStepBench(ctx, cfg));
  for (let step = 0; step <= setup.steps; step++) for (const b of benches) await b.runStep(step);
  const steps: StepResult[] = [];
  for (const b of benches) steps.push({ ...(await b.finish()), hostMemory: await hostMemory() });

  const measured: Measured = {
    adapter: gpu.adapterInfo, features: gpu.features, model: setup.model, run: setup.run, tokens: setup.tokens,
    timing: { basis: timing.basis, cores: timing.cores },
    tfjs, matmul, weightMatmul, steps,
  };
  window.__bench = {
    state: 'done',
    report(extra) {
      const results = buildResults(measured, { date: new Date().toISOString(), durationS: extra.durationS, machine: extra.machine });
      return { json: JSON.stringify(results, null, 2), markdown: markdown(results, extra.command), table: summaryTable(results) };
    },
  };
  log('done');
}

// ?real: the real-shape half of the bench (real-main.ts, driven by scripts/bench-real/run.mjs).
if (new URLSearchParams(location.search).has('real')) {
  void realMain();
} else {
  main().catch((e: Error) => {
    console.error(e);
    window.__bench = { state: 'failed', error: `${e.name}: ${e.message}\n${e.stack ?? ''}` };
  });
}
