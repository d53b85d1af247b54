/**
 * One configuration of the training step on the bench model: build the graph (through a fresh
 * pool, so its ledger is this run's alone), check the analytic plan against the ledger and the
 * ledger against the real buffers, run steps (forward, backward and optimizer, submitted as the
 * trainer submits them; the caller interleaves configurations so that a change in the machine's
 * load hits them alike), and optionally time every kernel of one step with timestamp queries.
 */
import { CATEGORIES, type Category } from '../core/memory-categories';
import type { TensorLoader } from '../io/model-source/types';
import { createEngine, releaseEngine, type Engine } from '../engine/context';
import type { Gpu } from '../engine/device';
import type { PipelineCache } from '../engine/pipelines';
import { alignedSize } from '../engine/pool';
import { profileOps, sharesByKernel, type KernelShare, type OpTiming } from '../engine/profiler';
import { weightBufferBytes } from '../engine/kernels/weights';
import { epochBatches } from '../data/batching';
import type { ModelConfig } from '../config/model-config';
import { LAYER_LINEARS } from '../model/graph/base-weights';
import { buildTrainGraph, setDropout } from '../model/graph/train-graph';
import { moduleShape } from '../config/lora-targets';
import { planMemory } from '../model/plan/memory-plan';
import { chainDataset, loaderOf } from '../model/synthetic';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../config/run-config';
import { readStepMetrics, releaseStepReadback, submitMicroBatch, submitOptimizerStep } from '../train/step';
import { stepModelFlops, type StepFlops } from './flops';
import { msOf, type BenchTiming } from './timing';

export interface StepConfig {
  name: string;
  /** Overrides of the bench run (base precision, checkpointing ...). */
  over: RunConfigInput;
  /** Another model than the bench's (the same sizes as another family), with its weights. */
  model?: { config: ModelConfig; weights: Map<string, Float32Array<ArrayBuffer>> };
  /** Stream the weights from a checkpoint instead (a real-shape model, through the GPU quantizer). */
  load?: TensorLoader;
  profile?: boolean;
}

export interface StepResult {
  name: string;
  run: RunConfigInput;
  /** Warm-up step, then the timed steps, on the bench's timing basis (see timing.ts), ms. */
  warmupMs: number;
  stepMs: number[];
  /** The same by wall clock. */
  wallStepMs: number[];
  meanStepMs: number;
  /** The fastest timed step: the figure the summary uses (least disturbed by other load). */
  bestStepMs: number;
  /** Tokens per second at bestStepMs. */
  tokensPerS: number;
  /** Loss of every step, warm-up first (finite numbers, or the bench failed). */
  losses: number[];
  flops: StepFlops;
  memory: {
    byCategory: Record<Category, number>;
    total: number;
    peakTotal: number;
    /** Sum of the sizes the device reports for the live buffers. */
    realBytes: number;
    planByCategory: Record<Category, number>;
    planTotal: number;
    planEqualsLedger: boolean;
    /** Bytes of the base linears and the LM head in the run's storage format (what quantization shrinks). */
    linearWeightBytes: number;
  };
  /** Kernel families by share of one profiled step, and its ten slowest ops. */
  profile: { byKernel: KernelShare[]; slowest: OpTiming[]; sumMs: number } | null;
  /** The host's memory once this configuration gave its buffers back (set by the bench page, in order of finishing). */
  hostMemory?: { gpuProcessBytes: number | null; pageHeapBytes: number | null };
}

/** Bytes of every base linear and the (untied) LM head, as createBaseWeights allocates them. */
export function linearWeightBytes(model: ModelConfig, run: RunConfig): number {
  const bytes = (out: number, inF: number) =>
    weightBufferBytes(run.basePrecision, out, inF, { doubleQuant: run.basePrecision === 'nf4' && run.doubleQuant })
      .reduce((s, b) => s + alignedSize(b), 0);
  let total = 0;
  for (let l = 0; l < model.numLayers; l++) {
    for (const m of LAYER_LINEARS) {
      const s = moduleShape(m, model);
      total += bytes(s.out, s.in);
    }
  }
  if (!model.tieWordEmbeddings) total += bytes(model.vocabSize, model.hiddenSize);
  return total;
}

export interface StepBenchContext {
  gpu: Gpu;
  /** Shared by every configuration, so a pipeline is compiled once per bench. */
  pipelines: PipelineCache;
  model: ModelConfig;
  weights: Map<string, Float32Array<ArrayBuffer>>;
  base: RunConfigInput;
  steps: number;
  timing: BenchTiming;
  log: (line: string) => void;
}

/** A configuration built and ready to step; steps of several configurations can be interleaved. */
export interface StepBench {
  name: string;
  /** Optimizer step `step` (0 = warm-up): submit, wait for the GPU, read the loss. Returns ms. */
  runStep(step: number): Promise<number>;
  /** Profile (when asked), collect the figures and free the run's buffers. */
  finish(): Promise<StepResult>;
}

export async function prepareStepBench(c: StepBenchContext, cfg: StepConfig): Promise<StepBench> {
  const { gpu } = c;
  const model = cfg.model?.config ?? c.model;
  const run = parseRunConfig({ ...c.base, ...cfg.over });
  const engine: Engine = { ...createEngine(gpu), pipelines: c.pipelines };
  const { device } = gpu;
  const g = await buildTrainGraph(engine, model, run, { load: cfg.load ?? loaderOf(cfg.model?.weights ?? c.weights) });
  const ledger = engine.pool.ledgerSnapshot();
  const realBytes = engine.pool.allocatedBuffers().reduce((s, b) => s + b.size, 0);
  const plan = await planMemory(model, run, gpu.limits, gpu.features);
  const planEqualsLedger = plan.total === ledger.total && realBytes === ledger.total &&
    CATEGORIES.every((k) => plan.byCategory[k] === ledger.current[k]);
  const data = chainDataset(model.vocabSize, run.microBatch * (c.steps + 1), run.maxSeqLen + 1, run.seed);
  const batches = epochBatches(data, run.microBatch, run.maxSeqLen, 0, run.seed, 0);
  const losses: number[] = [];
  const times: number[] = [];
  const wall: number[] = [];
  c.log(`built ${cfg.name}: ${(ledger.total / 2 ** 20).toFixed(2)} MiB, plan ${planEqualsLedger ? '==' : '!='} ledger`);

  return {
    name: cfg.name,
    async runStep(step) {
      const c0 = await c.timing.clock();
      const t0 = performance.now();
      submitMicroBatch(g, batches[step % batches.length], step, 0);
      submitOptimizerStep(g, step, run.learningRate);
      await device.queue.onSubmittedWorkDone();
      const wallMs = performance.now() - t0;
      const c1 = await c.timing.clock();
      const ms = msOf({ ms: wallMs, deviceMs: c0 === null || c1 === null ? null : (c1 - c0) / c.timing.cores }, c.timing.basis);
      const [m] = await readStepMetrics(g, step, 1);
      if (!Number.isFinite(m.loss) || m.nonFinite) throw new Error(`${cfg.name}: step ${step} gave a non-finite loss or gradient`);
      losses.push(m.loss);
      times.push(ms);
      wall.push(wallMs);
      c.log(`step ${cfg.name} #${step}${step === 0 ? ' (warm-up)' : ''}: ${ms.toFixed(0)} ms (${c.timing.basis}), wall ${wallMs.toFixed(0)} ms, loss ${m.loss.toFixed(4)}`);
      return ms;
    },
    async finish() {
      try {
        const stepMs = times.slice(1);
        const meanStepMs = stepMs.reduce((s, t) => s + t, 0) / stepMs.length;
        const bestStepMs = Math.min(...stepMs);
        let profile: StepResult['profile'] = null;
        if (cfg.profile && gpu.features.timestamps) {
          setDropout(g, times.length, 0, true);
          const ops = [g.zeroGrads, g.zeroStepLoss, ...g.forward, ...g.backward, g.accumulateLoss, g.gradNorm, g.optimizer];
          const timings = await profileOps(engine, ops);
          const sumMs = timings.reduce((s, t) => s + t.ms, 0);
          profile = { byKernel: sharesByKernel(timings), slowest: [...timings].sort((a, b) => b.ms - a.ms).slice(0, 10), sumMs };
          c.log(`profile ${cfg.name}: ${profile.byKernel.map((k) => `${k.kernel} ${(100 * k.share).toFixed(1)}%`).join(', ')}`);
        }
        return {
          name: cfg.name, run: cfg.over, warmupMs: times[0], stepMs, wallStepMs: wall.slice(1), meanStepMs, bestStepMs,
          tokensPerS: (run.microBatch * run.maxSeqLen * run.gradAccumulation) / (bestStepMs / 1000),
          losses, flops: stepModelFlops(model, run),
          memory: {
            byCategory: ledger.current, total: ledger.total, peakTotal: engine.pool.ledgerSnapshot().peakTotal, realBytes,
            planByCategory: plan.byCategory, planTotal: plan.total, planEqualsLedger,
            linearWeightBytes: linearWeightBytes(model, run),
          },
          profile,
        };
      } finally {
        releaseStepReadback(g);
        await releaseEngine(engine);
      }
    },
  };
}
