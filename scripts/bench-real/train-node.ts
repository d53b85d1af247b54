// Training throughput of a real-shape model in Node (Dawn; on this machine SwiftShader, a CPU
// Vulkan): the bench's training step (src/bench/step-bench.ts) on a model folder's weights,
// streamed through the GPU quantizer, at 4 x 256 tokens, with and without activation checkpointing.
// MFU is over our matmul's best GFLOP/s on the model's own linear shapes, measured in this process
// on the same clock. Device time: this process's CPU time / cores (SwiftShader's threads run here,
// so unlike wall time it does not grow when other processes load the machine). One JSON line.
//   node --expose-gc --import tsx --import ./scripts/raw-import.mjs scripts/bench-real/train-node.ts <dir> [--steps 2]
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { moduleShape } from '../../src/config/lora-targets';
import { TARGETS } from '../../src/config/lora-targets';
import { createEngine } from '../../src/engine/context';
import { acquireGpu } from '../../src/engine/device';
import { nodeGpu } from '../../src/engine/node-gpu';
import { PipelineCache } from '../../src/engine/pipelines';
import { openModelSpec } from '../../src/io/model-source/node';
import { benchMatmuls, linearProducts } from '../../src/bench/matmul-bench';
import { prepareStepBench, type StepResult } from '../../src/bench/step-bench';
import type { BenchTiming } from '../../src/bench/timing';
import { peakRssBytes } from './memory';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { steps: { type: 'string', default: '2' } } });
const dir = positionals[0];
if (!dir) throw new Error('usage: train-node.ts <model dir> [--steps 2]');
const log = (l: string) => process.stderr.write(`[train-node] ${l}\n`);
const B = 4;
const T = 256;

const gpu = await acquireGpu(await nodeGpu(), { limits: 'adapter' });
const cores = cpus().length;
const cpuMs = async () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const timing: BenchTiming = { clock: cpuMs, cores, minMeasureMs: 250, basis: 'device' };
const model = await openModelSpec(dir);
const cfg = model.config;

// The denominator of MFU: our kernel on the model's attention and MLP products at B x T tokens.
const engine = createEngine(gpu);
const q = moduleShape('q_proj', cfg);
const gate = moduleShape('gate_proj', cfg);
const down = moduleShape('down_proj', cfg);
const shapes = [
  ...linearProducts('q_proj', q.out, q.in, B * T).slice(0, 2),
  ...linearProducts('gate_proj', gate.out, gate.in, B * T).slice(0, 2),
  linearProducts('down_proj', down.out, down.in, B * T)[0],
];
const matmul = await benchMatmuls(engine, shapes, { timing, budgetMs: 1500, rounds: 2, tfjs: false, log });
const best = Math.max(...matmul.map((m) => m.ours));
const bestWall = Math.max(...matmul.map((m) => m.wall.ours));
engine.pool.destroyAll();

const ctx = {
  gpu, pipelines: new PipelineCache(gpu), model: cfg, weights: new Map(), steps: Number(values.steps), timing, log,
  base: {
    rank: 8, alpha: 16, targets: [...TARGETS], microBatch: B, maxSeqLen: T, gradAccumulation: 1, optimizer: 'adamw' as const,
    learningRate: 1e-3, schedule: 'constant' as const, gradClip: 1, dropout: 0, logEvery: 1, seed: 1234, basePrecision: 'bf16' as const,
  },
};
const configs = [
  { name: 'bf16', over: {} },
  { name: 'bf16+checkpointing', over: { activationCheckpointing: true } },
];
const results: (StepResult & { mfu: number; mfuWall: number })[] = [];
// One configuration at a time (each holds the whole model): warm-up step, then the timed ones.
for (const c of configs) {
  const b = await prepareStepBench(ctx, { ...c, model: { config: cfg, weights: new Map() }, load: model.loader() });
  for (let step = 0; step <= ctx.steps; step++) await b.runStep(step);
  const r = await b.finish();
  const gflop = r.flops.total / 1e9;
  const bestWallMs = Math.min(...r.wallStepMs);
  results.push({ ...r, mfu: gflop / (r.bestStepMs / 1000) / best, mfuWall: gflop / (bestWallMs / 1000) / bestWall });
  log(`${c.name}: best step ${r.bestStepMs.toFixed(0)} ms (device), ${bestWallMs.toFixed(0)} ms (wall), ${r.tokensPerS.toFixed(1)} tokens/s, MFU ${results.at(-1)!.mfu.toFixed(3)}`);
}
await model.close();
console.log(JSON.stringify({
  model: dir, config: { hidden: cfg.hiddenSize, layers: cfg.numLayers, vocab: cfg.vocabSize }, tokens: B * T, cores,
  matmul: { bestGflops: best, bestWallGflops: bestWall, shapes: matmul.map((m) => ({ name: m.name, product: m.product, M: m.M, N: m.N, K: m.K, ours: m.ours, wall: m.wall.ours })) },
  steps: results.map((r) => ({
    name: r.name, stepMs: r.stepMs, wallStepMs: r.wallStepMs, warmupMs: r.warmupMs, bestStepMs: r.bestStepMs, tokensPerS: r.tokensPerS,
    tokensPerSWall: (B * T) / (Math.min(...r.wallStepMs) / 1000), gflop: r.flops.total / 1e9, mfu: r.mfu, mfuWall: r.mfuWall, losses: r.losses,
    planEqualsLedger: r.memory.planEqualsLedger, gpuBytes: r.memory.total, peakGpuBytes: r.memory.peakTotal, byCategory: r.memory.byCategory,
  })),
  peakRssBytes: peakRssBytes(),
}));
process.exit(0);
