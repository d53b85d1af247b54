/**
 * Pretraining with the project's own LoRA engine, ReLoRA-style (Lialin et al. 2023): train a
 * full-rank LoRA on every linear layer and the head for one cycle, merge W += scale * B A into the
 * base weights (on the CPU, then written into the graph's base buffers), re-initialise the LoRA
 * and its optimizer state, and go again. Each cycle runs the trainer's warmup + cosine schedule,
 * which is ReLoRA's jagged schedule. Embeddings and norms stay frozen at their init.
 *
 * Deterministic: the seed fixes the initial weights, every cycle's LoRA init and data; the
 * engine's kernels are deterministic (no atomics), so the same seed on the same adapter gives
 * the same model.
 */
import type { TokenizedExample } from '../../src/data/batching';
import type { Engine } from '../../src/engine/context';
import { refBuffer } from '../../src/engine/kernels/common';
import type { ModelConfig } from '../../src/config/model-config';
import { LAYER_LINEARS } from '../../src/model/graph/base-weights';
import { initialLoraParams, readLoraTensors, writeFlat } from '../../src/model/graph/lora-state';
import { buildTrainGraph, type TrainGraph } from '../../src/model/graph/train-graph';
import { loaderOf } from '../../src/model/synthetic';
import { modulePath } from '../../src/config/lora-targets';
import type { LoraSlot } from '../../src/model/plan/lora-layout';
import { parseRunConfig } from '../../src/config/run-config';
import { train, type StepEvent } from '../../src/train/trainer';

export interface ReloraOptions {
  cycles: number;
  stepsPerCycle: number;
  /** LoRA rank of every module; at least the hidden size makes each cycle full-rank. */
  rank: number;
  learningRate: number;
  warmupSteps: number;
  microBatch: number;
  seqLen: number;
  seed: number;
}

export interface CycleReport {
  cycle: number;
  /** Mean training loss over the cycle's last 10 steps. */
  trainLoss: number;
  /** Validation loss at the end of the cycle (before the merge; the merge does not change it). */
  evalLoss: number;
  seconds: number;
}

export interface PretrainData {
  /** The micro-batches' examples of one cycle: stepsPerCycle * microBatch windows. */
  cycle(c: number): TokenizedExample[];
  validation: TokenizedExample[];
  padId: number;
}

/** W (out, in) += scale * B (out, r) @ A (r, in), in place. */
export function mergeInto(W: Float32Array, A: Float32Array, B: Float32Array, slot: Pick<LoraSlot, 'r' | 'scale' | 'inFeatures' | 'outFeatures'>): void {
  const { r, scale, inFeatures: In, outFeatures: Out } = slot;
  if (W.length !== Out * In || A.length !== r * In || B.length !== Out * r) throw new RangeError('mergeInto: shapes do not match the slot');
  for (let o = 0; o < Out; o++) {
    const row = o * In;
    for (let k = 0; k < r; k++) {
      const b = scale * B[o * r + k];
      if (b === 0) continue;
      const a = k * In;
      for (let i = 0; i < In; i++) W[row + i] += b * A[a + i];
    }
  }
}

/** Write a merged f32 weight into the graph's base buffers (the head is split in vocabulary chunks). */
function uploadWeight(g: TrainGraph, path: string, W: Float32Array<ArrayBuffer>): void {
  const q = g.engine.gpu.device.queue;
  if (path === 'lm_head') {
    g.dims.chunks.forEach(([v0, rows], i) => {
      const ref = g.base.headChunks[i].words;
      q.writeBuffer(refBuffer(ref), 'offset' in ref ? ref.offset ?? 0 : 0, W, v0 * g.dims.C, rows * g.dims.C);
    });
    return;
  }
  const layer = Number(/layers\.(\d+)\./.exec(path)?.[1]);
  const m = LAYER_LINEARS.find((x) => path.endsWith(`.${x}`));
  if (!m || !Number.isInteger(layer) || modulePath(m, layer) !== path) throw new Error(`uploadWeight: unknown module ${path}`);
  const { cols, shards } = g.base.layers[layer].linears[m];
  for (const s of shards) q.writeBuffer(refBuffer(s.weight.words), 0, W, s.r0 * cols, s.weight.rows * cols); // f32 row shards
}

export async function pretrainRelora(
  engine: Engine, config: ModelConfig, weights: Map<string, Float32Array<ArrayBuffer>>, data: PretrainData, o: ReloraOptions,
  log: (line: string) => void = () => {},
): Promise<CycleReport[]> {
  if (config.tieWordEmbeddings) throw new Error('ReLoRA here trains an untied head; set tie_word_embeddings to false');
  const run = parseRunConfig({
    rank: o.rank, alpha: o.rank, targets: ['query', 'key', 'value', 'projection', 'mlp', 'head'], basePrecision: 'f32',
    optimizer: 'adamw', learningRate: o.learningRate, schedule: 'warmup-cosine', warmupSteps: o.warmupSteps, minLrRatio: 0.1,
    maxSteps: o.stepsPerCycle, microBatch: o.microBatch, maxSeqLen: o.seqLen, gradClip: 1, seed: o.seed,
    logEvery: Math.min(10, o.stepsPerCycle), evalEvery: o.stepsPerCycle,
  });
  const g = await buildTrainGraph(engine, config, run, { load: loaderOf(weights) });
  const q = engine.gpu.device.queue;
  const zeros = new Float32Array(g.layout.length);
  const reports: CycleReport[] = [];
  for (let c = 0; c < o.cycles; c++) {
    const started = performance.now();
    writeFlat(q, g.lora.params, initialLoraParams(g.layout, o.seed * 1000 + c)); // fresh A, B = 0
    for (const m of g.lora.moments) writeFlat(q, m, zeros); // ReLoRA resets the optimizer state too
    const events: StepEvent[] = await train(g, { train: data.cycle(c), validation: data.validation, padId: data.padId });
    const tensors = await readLoraTensors(engine, g.lora.params, g.layout);
    for (const slot of g.layout.slots) {
      const name = `${slot.path}.weight`;
      const W = weights.get(name);
      if (!W) throw new Error(`no base weight ${name}`);
      const t = tensors.get(slot.path)!;
      mergeInto(W, t.A, t.B, slot);
      uploadWeight(g, slot.path, W);
    }
    const tail = events.slice(-10);
    const report: CycleReport = {
      cycle: c + 1,
      trainLoss: tail.reduce((s, e) => s + e.loss, 0) / tail.length,
      evalLoss: events[events.length - 1].evalLoss ?? NaN,
      seconds: (performance.now() - started) / 1000,
    };
    reports.push(report);
    log(`cycle ${report.cycle}/${o.cycles}: train loss ${report.trainLoss.toFixed(3)}, validation loss ${report.evalLoss.toFixed(3)} (${report.seconds.toFixed(0)} s)`);
  }
  return reports;
}
