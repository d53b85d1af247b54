/**
 * A forward-only use of the training graph for evaluation: the base model, or the base model with
 * an imported PEFT adapter as the graph's LoRA (BuildOptions.initialLora), dropout off. Rows of
 * (tokens, targets) go through in micro-batches of B rows of T positions; the chunked
 * cross-entropy leaves each position's negative log-likelihood of its target in `ws.rowLoss`
 * (N = B*T; 0 where the target is -100), which is read back once per micro-batch.
 */
import type { Engine } from '../../engine/context';
import { readFloat32 } from '../../engine/readback';
import type { TensorLoader } from '../../io/model-source/types';
import type { PeftAdapter } from '../../config/adapter';
import type { ModelConfig } from '../../config/model-config';
import { targetsForModules } from '../../config/lora-targets';
import { parseRunConfig, type RunConfig } from '../../config/run-config';
import { IGNORE_INDEX } from '../../data/batching';
import { buildTrainGraph, loraConfigOf, type TrainGraph } from '../../model/graph/train-graph';
import { loraParamsFrom } from '../../model/graph/lora-state';
import { loraLayout } from '../../model/plan/lora-layout';
import { submitForward } from '../step';

export interface EvalGraphOptions {
  /** Rows per forward (default 8). */
  microBatch?: number;
  /** Positions per row: at least the longest row (clamped to the model's context). */
  maxSeqLen: number;
  /** Storage of the base weights (default f32). */
  basePrecision?: RunConfig['basePrecision'];
  /** LM-head vocabulary chunk (default the run config's). */
  vocabChunk?: number;
}

/** One row to score: tokens[t] predicts targets[t] (-100: not scored). Both at most T long. */
export interface ScoreRow {
  tokens: readonly number[];
  targets: readonly number[];
}

/** The run config of an evaluation graph: the adapter's LoRA shape (or a rank-1 zero update), no dropout, no optimizer state. */
export function evalRunConfig(adapter: PeftAdapter | null, o: EvalGraphOptions): RunConfig {
  const a = adapter?.config;
  return parseRunConfig({
    ...(a ? { rank: a.r, alpha: a.alpha, useRslora: a.useRslora, targets: targetsForModules(a.targetModules), rankPattern: a.rankPattern, alphaPattern: a.alphaPattern, useDora: a.useDora === true }
      : { rank: 1, alpha: 1, targets: ['query'] }),
    basePrecision: o.basePrecision ?? 'f32', optimizer: 'sgd', momentum: 0, dropout: 0, schedule: 'constant',
    microBatch: o.microBatch ?? 8, maxSeqLen: o.maxSeqLen, ...(o.vocabChunk ? { vocabChunk: o.vocabChunk } : {}),
  });
}

/**
 * Build the graph. Without an adapter the LoRA is PEFT's initialisation (B = 0), so the update
 * adds exactly 0 and the graph computes the base model.
 */
export async function buildEvalGraph(engine: Engine, model: ModelConfig, load: TensorLoader, adapter: PeftAdapter | null, o: EvalGraphOptions): Promise<TrainGraph> {
  const run = evalRunConfig(adapter, { ...o, maxSeqLen: Math.min(o.maxSeqLen, model.maxPositionEmbeddings) });
  const initialLora = adapter
    ? loraParamsFrom(loraLayout(model, loraConfigOf(run)), new Map(adapter.tensors.map((t) => [t.path, { A: t.A, B: t.B, M: t.M }])))
    : undefined;
  return buildTrainGraph(engine, model, run, { load, initialLora });
}

/**
 * Per-position negative log-likelihoods of each row's targets (0 where not scored), in row order.
 * Rows longer than T are an error here: the callers truncate (from the left) before.
 */
export async function scoreRows(g: TrainGraph, rows: readonly ScoreRow[], padId = 0, onProgress?: (done: number, total: number) => void): Promise<Float32Array[]> {
  const { B, T } = g.dims;
  const out: Float32Array[] = [];
  for (let i = 0; i < rows.length; i += B) {
    const tokens = new Int32Array(B * T).fill(padId);
    const targets = new Int32Array(B * T).fill(IGNORE_INDEX);
    const n = Math.min(B, rows.length - i);
    for (let b = 0; b < n; b++) {
      const r = rows[i + b];
      if (r.tokens.length > T || r.targets.length !== r.tokens.length) {
        throw new RangeError(`scoreRows: row ${i + b} has ${r.tokens.length} tokens and ${r.targets.length} targets; both must be equal and at most ${T}`);
      }
      tokens.set(r.tokens, b * T);
      targets.set(r.targets, b * T);
    }
    submitForward(g, { tokens, targets });
    const nll = await readFloat32(g.engine.gpu.device, g.ws.rowLoss, B * T);
    for (let b = 0; b < n; b++) out.push(nll.slice(b * T, b * T + rows[i + b].tokens.length));
    onProgress?.(out.length, rows.length);
  }
  return out;
}

/** Positions a set of rows needs, rounded up to a multiple of 8 and clamped to the model's context. */
export function positionsFor(lengths: readonly number[], model: ModelConfig): number {
  const longest = Math.max(1, ...lengths);
  return Math.min(model.maxPositionEmbeddings, Math.ceil(longest / 8) * 8);
}
