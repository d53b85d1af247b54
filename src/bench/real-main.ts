/**
 * bench.html?real: the browser half of the real-shape bench (scripts/bench-real/run.mjs drives it).
 *   1. the peer: the bench model's LoRA training step, ours against the same step written with
 *      tfjs-core + tfjs-backend-webgpu autograd (tfjs-step.js), interleaved on the same adapter;
 *   2. the load: a real-shape bf16 model from the runner's server into OPFS (not timed), then from
 *      OPFS to the GPU as NF4 in a worker (load-worker.ts), while the runner samples that worker's
 *      JS heap. The runner gives the go for the load once it has the worker's idle figures.
 * State for the runner on window.__benchReal.
 */
import { acquireGpu } from '../engine/device';
import { PipelineCache } from '../engine/pipelines';
import { epochBatches } from '../data/batching';
import { parseRunConfig } from '../config/run-config';
import { countLoraParams } from '../config/param-count';
import { loraConfigOf } from '../model/graph/train-graph';
import { chainDataset, tinyWeights } from '../model/synthetic';
import { benchSetup } from './bench-model';
import { prepareStepBench } from './step-bench';
import { tfjsLoraStep } from './tfjs-step.js';
import { tfjsWebgpu } from './tfjs-matmul.js';
import { commonBasis, interleave, msOf, type BenchTiming } from './timing';

export interface PeerResult {
  tfjs: string;
  trainable: { ours: number; tfjs: number };
  /** The best step of each by the bench's basis and by wall clock, ms. */
  basis: 'device' | 'wall';
  oursMs: number;
  tfjsMs: number;
  oursWallMs: number;
  tfjsWallMs: number;
  /** The first loss of each (the base model's: B = 0). */
  firstLoss: { ours: number; tfjs: number };
  /** The loss of step `steps` of each (both ran at least that many). */
  lastLoss: { ours: number; tfjs: number };
  steps: { ours: number; tfjs: number };
}

export interface LoadResult {
  folder: string;
  format: string;
  downloadBytes: number;
  downloadMs: number;
  loadMs: number;
  readBytes: number;
  gpuBytes: number;
  tensors: number;
}

declare global {
  interface Window {
    __benchReal?: { phase: 'peer' | 'download' | 'ready' | 'load' | 'done' | 'failed'; error?: string; peer?: PeerResult; load?: LoadResult; go?: () => void };
  }
}

const log = (line: string) => console.log(`[bench] ${line}`);

async function peer(timing: BenchTiming): Promise<PeerResult> {
  const tf = await tfjsWebgpu();
  if (!tf.ok) throw new Error(`tfjs unavailable: ${tf.reason}`);
  const setup = benchSetup(false);
  const gpu = await acquireGpu(navigator.gpu, { limits: 'adapter' });
  const weights = tinyWeights(setup.model, 3);
  const steps = 3;
  // Ours: the bench's step on f32 base weights (tfjs holds f32 weights), every LoRA target, AdamW.
  const ours = await prepareStepBench(
    { gpu, pipelines: new PipelineCache(gpu), model: setup.model, weights, base: setup.run, steps, timing, log },
    { name: 'f32 (peer)', over: { basePrecision: 'f32' } },
  );
  const run = parseRunConfig({ ...setup.run, basePrecision: 'f32' });
  const data = chainDataset(setup.model.vocabSize, run.microBatch * (steps + 1), run.maxSeqLen + 1, run.seed);
  const batches = epochBatches(data, run.microBatch, run.maxSeqLen, 0, run.seed, 0);
  const theirs = await tfjsLoraStep({
    model: setup.model, weights, rank: run.rank, alpha: run.alpha, learningRate: run.learningRate, gradClip: run.gradClip,
    B: run.microBatch, T: run.maxSeqLen, batches,
  });
  const losses = { ours: [] as number[], tfjs: [] as number[] };
  let k = 0;
  let j = 0;
  const times = await interleave([
    { run: async () => void (await ours.runStep(k++)) },
    { run: async () => void losses.tfjs.push(await theirs.run(j++)) },
  ], timing, 150_000, steps);
  const basis = commonBasis(times, timing.basis);
  const mine = await ours.finish();
  losses.ours = mine.losses;
  log(`peer: ours ${msOf(times[0], basis).toFixed(0)} ms, tfjs ${msOf(times[1], basis).toFixed(0)} ms (${basis}); first losses ${losses.ours[0]} / ${losses.tfjs[0]}`);
  const trainable = theirs.trainable;
  const same = Math.min(losses.ours.length, losses.tfjs.length);
  theirs.dispose();
  gpu.device.destroy();
  return {
    tfjs: tf.version, trainable: { ours: countLoraParams(setup.model, loraConfigOf(run)), tfjs: trainable }, basis,
    oursMs: msOf(times[0], basis), tfjsMs: msOf(times[1], basis), oursWallMs: times[0].ms, tfjsWallMs: times[1].ms,
    firstLoss: { ours: losses.ours[0], tfjs: losses.tfjs[0] },
    // After the same number of steps (each ran its own warm-ups and measurements).
    lastLoss: { ours: losses.ours[same - 1], tfjs: losses.tfjs[same - 1] },
    steps: { ours: same, tfjs: same },
  };
}

function ask(worker: Worker, msg: unknown, want: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ type: string; message?: string }>) => {
      if (e.data.type === want) resolve(e.data as unknown as Record<string, number>);
      else reject(new Error(`load worker: ${e.data.message ?? e.data.type}`));
    };
    worker.postMessage(msg);
  });
}

async function loadInWorker(folder: string, files: string[], format: string): Promise<LoadResult> {
  const state = window.__benchReal!;
  const worker = new Worker(new URL('./load-worker.ts', import.meta.url), { type: 'module', name: 'bench load-worker' });
  state.phase = 'download';
  const dl = await ask(worker, { type: 'download', folder, files: files.map((name) => ({ name, url: `/__bench-models/${folder}/${name}` })) }, 'downloaded');
  log(`downloaded ${folder} into OPFS: ${(dl.bytes / 2 ** 20).toFixed(0)} MiB in ${(dl.ms / 1000).toFixed(1)} s (not timed)`);
  // The runner measures the worker at rest, then says go.
  await new Promise<void>((go) => {
    state.go = go;
    state.phase = 'ready';
  });
  state.phase = 'load';
  const r = await ask(worker, { type: 'load', folder, format, limits: 'adapter' }, 'loaded');
  worker.terminate();
  log(`loaded ${folder} as ${format}: ${(r.loadMs / 1000).toFixed(1)} s`);
  return { folder, format, downloadBytes: dl.bytes, downloadMs: dl.ms, loadMs: r.loadMs, readBytes: r.readBytes, gpuBytes: r.gpuBytes, tensors: r.tensors };
}

export async function realMain(): Promise<void> {
  window.__benchReal = { phase: 'peer' };
  try {
    const params = new URLSearchParams(location.search);
    const clock = async () => (window.__benchGpuCpuMs ? window.__benchGpuCpuMs() : null);
    const cpuDevice = (await clock()) !== null;
    const timing: BenchTiming = { clock: cpuDevice ? clock : async () => null, cores: navigator.hardwareConcurrency || 1, minMeasureMs: 250, basis: cpuDevice ? 'device' : 'wall' };
    if (!params.has('no-peer')) window.__benchReal.peer = await peer(timing);
    const folder = params.get('load');
    if (folder) window.__benchReal.load = await loadInWorker(folder, (params.get('files') ?? '').split(','), params.get('format') ?? 'nf4');
    window.__benchReal.phase = 'done';
  } catch (e) {
    console.error(e);
    window.__benchReal = { ...window.__benchReal!, phase: 'failed', error: `${(e as Error).name}: ${(e as Error).message}` };
  }
}
