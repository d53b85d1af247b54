/**
 * The whole training step of a Llama-family model with LoRA, built once per run: every buffer
 * allocated up front (through the pool, so the ledger is the memory curve), every pipeline and
 * bind group prepared, so a step only writes the batch, encodes the prepared ops and submits.
 * Nothing is read back here; the trainer reads the metrics buffer once per logging interval.
 */
import type { TensorLoader } from '../../io/model-source/types';
import type { Engine } from '../../engine/context';
import { BufferUsage } from '../../engine/flags';
import type { PreparedOp } from '../../engine/kernels/common';
import { prepareAccumulate, prepareFill, type ScalarOp } from '../../engine/kernels/elementwise';
import { allocGradStats, GRAD_STATS_BYTES, prepareGradNorm } from '../../engine/kernels/grad-norm';
import type { PreparedOptimizer } from '../../engine/kernels/optim';
import { uploadRopeTables } from '../../engine/kernels/rope';
import { dropoutStream } from '../../core/rng';
import type { RunConfig } from '../../config/run-config';
import type { ModelConfig } from '../../config/model-config';
import { ropeSpecsByLayer } from '../../config/architecture-features';
import type { LoraConfig } from '../../config/lora-config';
import { modulesForTargets } from '../../config/lora-targets';
import { loraLayout, type LoraLayout, type LoraSlot } from '../plan/lora-layout';
import { loraChunks } from '../plan/lora-chunks';
import { createActivations, type Activations, type Workspace } from './activations';
import { prepareLoadPacked, prepareRoundWorking } from './bf16-activations';
import { createBaseWeights, prepareEmbeddingShards, type BaseWeights, type LayerLinear } from './base-weights';
import { graphDims, maxBindingBytes, type GraphDims } from './dims';
import { prepareHead } from './head';
import { prepareLayerBackward } from './layer-backward';
import { layerArchitecture } from './layer-architecture';
import { prepareLayerForward, type LayerContext } from './layer-forward';
import { allocBestLora, createLoraState, initialLoraParams, writeFlat, type LoraState } from './lora-state';
import { perChunk, sequence } from './chunked-ops';
import { optimizerBufferCount, prepareHessianPass, prepareRunOptimizer, type HessianPass } from './optimizer';
import type { LoraBranch, ModuleDropout } from './projection';
import { createFullState, fullLayout, type FullState } from './full-state';
import { prepareEmbeddingGrads } from './full-grads';
import { allocDoraBuffers, initDoraMagnitudes, type DoraBuffers } from './dora';
import { prepareHeadDoraNorm } from './head-dora';
import { chunkRows, MLP_MODULES } from './mlp-chunks';

/** Floats per row of the metrics buffer: [loss, grad norm, clip coefficient, non-finite flag]. */
export const METRICS_ROW = 4;

export interface TrainGraph {
  engine: Engine;
  model: ModelConfig;
  run: RunConfig;
  dims: GraphDims;
  layout: LoraLayout;
  base: BaseWeights;
  lora: LoraState;
  /** Full finetuning (run.method 'full'): the base weights as parameters; `lora` is then their state. */
  full?: FullState;
  act: Activations;
  ws: Workspace;
  /** Embedding, the layers, final norm, head logits and cross-entropy: the loss of one micro-batch. */
  forward: PreparedOp[];
  /** Everything after the forward down to the first layer's LoRA gradients. */
  backward: PreparedOp[];
  dropouts: ModuleDropout[];
  /** Per vocabulary chunk [v0, w] of dims.chunks, the ops that write its logits (N, w) into ws.logits; valid after the forward. */
  chunkLogits: PreparedOp[][];
  zeroGrads: PreparedOp;
  zeroStepLoss: PreparedOp;
  /** stepLoss += ceStats[0] / gradAccumulation */
  accumulateLoss: ScalarOp;
  /** evalLoss += ceStats[0] * (1 / number of eval batches) */
  accumulateEvalLoss: ScalarOp;
  zeroEvalLoss: PreparedOp;
  gradNorm: PreparedOp;
  /** The run's optimizer with its hyper-parameters bound: setStep(step, lr) (./optimizer.ts). */
  optimizer: PreparedOptimizer<number>;
  /** Sophia only: the Gauss-Newton-Bartlett pass that refreshes its Hessian estimate every sophiaHessianEvery steps. */
  hessian?: HessianPass;
  /** (1) mean loss of the current optimizer step */
  stepLoss: GPUBuffer;
  /** (1) */
  evalLoss: GPUBuffer;
  /** (8 words) grad-norm stats: sumsq, norm, clip coefficient, non-finite flag, non-finite steps */
  gradStats: GPUBuffer;
  /** (logEvery, METRICS_ROW) one row per optimizer step since the last readback */
  metrics: GPUBuffer;
}

/** The LoRA config of a run (targets -> module names, patterns as PEFT keys them). */
export function loraConfigOf(run: RunConfig): LoraConfig {
  return {
    r: run.rank, alpha: run.alpha, dropout: run.dropout, useRslora: run.useRslora,
    targetModules: modulesForTargets(run.targets), rankPattern: run.rankPattern, alphaPattern: run.alphaPattern,
    ...(run.useDora ? { useDora: true } : {}),
  };
}

export { adamwParams, optimizerBufferCount, sgdParams } from './optimizer';

export interface BuildOptions {
  /** Stream the base weights in; without it (the memory plan) only allocation happens. */
  load?: TensorLoader;
  /** Initial LoRA parameters as a flat buffer in `layout` order (an imported adapter); default PEFT init from the seed. */
  initialLora?: Float32Array<ArrayBuffer>;
  /** The largest binding to size pieces for (default: the engine's device; a memory plan passes the real device's). */
  maxBindingBytes?: number;
}

const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

export async function buildTrainGraph(engine: Engine, model: ModelConfig, run: RunConfig, opts: BuildOptions = {}): Promise<TrainGraph> {
  // Full finetuning: no LoRA slots; the base weights are the parameters (./full-state.ts).
  const layout = run.method === 'full' ? fullLayout(0) : loraLayout(model, loraConfigOf(run));
  // The MLP's LoRA hiddens (N, r) are bound as row ranges when it runs in token-row chunks: their ranks set the rows' alignment.
  const mlpRanks = layout.slots.filter((s) => MLP_MODULES.includes(s.module)).map((s) => s.r);
  const dims = graphDims(model, run.microBatch, run.maxSeqLen, run.vocabChunk, opts.maxBindingBytes ?? maxBindingBytes(engine.gpu.limits), mlpRanks);
  const format = run.basePrecision;
  const base = await createBaseWeights(engine, model, format, run.doubleQuant, dims, opts.load);
  // The flat state in chunks that fit a binding (lm_head's B, if it must be cut, at whole vocabulary chunks).
  const full = run.method === 'full' ? await createFullState(engine, model, base, optimizerBufferCount(run)) : undefined;
  const lora = full?.state ?? await createLoraState(engine, layout, optimizerBufferCount(run), loraChunks(layout, dims.maxBindingBytes, dims.Vc));
  if (!full && (opts.load || opts.initialLora)) writeFlat(engine.gpu.device.queue, lora.params, opts.initialLora ?? initialLoraParams(layout, run.seed));
  // Early stopping keeps the best evaluation's parameters beside the live ones (copied on the GPU, never read back per evaluation).
  if (run.earlyStoppingPatience > 0) lora.best = await allocBestLora(engine, lora);
  const dropoutOn = run.dropout > 0;
  const { act, ws } = await createActivations(engine, dims, layout, dropoutOn, run.activationCheckpointing,
    { qkNorm: model.qkNorm === true, sandwichNorms: model.sandwichNorms === true }, run.activationPrecision);
  // One table per distinct RoPE (Gemma 3's local layers have their own base).
  // DoRA: each module's row norms and one shared scratch; fresh magnitudes start at ||W||_row (PEFT).
  const dora = await allocDoraBuffers(engine, layout.slots, dims.N, chunkRows(dims.mlpChunks), dims.Vc);
  if (dora && !full && opts.load && !opts.initialLora) {
    // the head's norm chunk by chunk (a tied head reads the embedding table through its chunks)
    const headNorm = async (slot: LoraSlot, d: DoraBuffers) => (await Promise.all(dims.chunks.map(([v0, w], i) =>
      prepareHeadDoraNorm({ engine, slot, params: lora.params, dora: d, weight: base.headChunks[i], v0, w, N: 1 })))).flat();
    await initDoraMagnitudes(engine, lora, dora, (s) => base.layers[s.layer!].linears[s.module as LayerLinear], (s, d) => (s.module === 'lm_head' ? headNorm(s, d) : null));
  }
  const ropes = ropeSpecsByLayer(model);
  const ropeTables = await Promise.all(ropes.specs.map((s) => uploadRopeTables(engine, dims.T, dims.D, s)));

  const branch = (layer: number | null, module: string, h: GPUBuffer | null): LoraBranch | null => {
    const slot = layout.slots.find((s) => s.layer === layer && s.module === module);
    if (!slot || !h) return null;
    return { slot, state: lora, h, xd: ws.xd, dxd: ws.dxd, dh: ws.dh, dropout: dropoutOn ? { p: run.dropout, seed: run.seed } : null, dora: dora?.get(slot.path) };
  };

  // Gemma scales the gathered embedding (the tied head reads the unscaled table).
  const forward: PreparedOp[] = await prepareEmbeddingShards(engine, base.embed, { out: act.layers[0].x, tokens: act.tokens, N: dims.N, C: dims.C, V: dims.V, scale: model.embedScale, label: 'embedding' });
  const backward: PreparedOp[] = [];
  const dropouts: ModuleDropout[] = [];
  const contexts: LayerContext[] = act.layers.map((la, l) => ({
    engine, dims, layer: l, arch: layerArchitecture(model, l), weights: base.layers[l], act: la,
    xNext: l + 1 < dims.L ? act.layers[l + 1].x : act.xOut, ws, rope: ropeTables[ropes.ofLayer[l]],
    lora: (m: LayerLinear) => branch(l, m, la.loraH[m] ?? null), fullGrads: full?.grads,
  }));
  for (const c of contexts) {
    const f = await prepareLayerForward(c);
    forward.push(...f.ops);
    dropouts.push(...f.dropouts);
  }
  const head = await prepareHead({
    engine, dims, eps: model.rmsNormEps, plusOne: model.normPlusOne === true, softcap: model.finalLogitSoftcap ?? null,
    base, act, ws, lora: branch(null, 'lm_head', act.headH), fullGrads: full?.grads,
  });
  forward.push(...head.forward);
  backward.push(...head.backward);
  dropouts.push(...head.dropouts);
  for (const c of [...contexts].reverse()) {
    // bf16 activations: load the layer's stored copies into the working set (none for the last layer).
    backward.push(...await prepareLoadPacked(engine, dims, c.act, `L${c.layer}`));
    // Checkpointing: the shared activations still hold the last layer's forward; refill them for the others.
    if (run.activationCheckpointing && c.layer < dims.L - 1) {
      const r = await prepareLayerForward(c, true);
      backward.push(...r.ops);
      dropouts.push(...r.dropouts);
    }
    // bf16 activations: what the backward reads without a stored copy (last layer, recomputed) is rounded first.
    backward.push(...await prepareRoundWorking(engine, dims, c.act, `L${c.layer}`));
    const b = await prepareLayerBackward(c);
    backward.push(...b.ops);
    dropouts.push(...b.dropouts);
  }

  // Full finetuning: ws.dres now holds dL/d(embedding output); scatter it into the table's gradient.
  if (full) backward.push(...await prepareEmbeddingGrads(engine, full.grads, base.embed, { dx: ws.dres, tokens: act.tokens, N: dims.N, C: dims.C, scale: model.embedScale }));

  const small = (label: string, bytes: number) => engine.pool.alloc({ size: bytes, usage: STORAGE, category: 'workspace', label });
  const stepLoss = await small('step loss (1)', 4);
  const evalLoss = await small('eval loss (1)', 4);
  const gradStats = await allocGradStats(engine, 'grad stats (8)');
  const metrics = await small(`metrics (${run.logEvery}, ${METRICS_ROW})`, 4 * METRICS_ROW * run.logEvery);
  const gradScale = 1 / run.gradAccumulation;
  // One optimizer op per chunk of the state; the gradient norm reduces over all chunks at once.
  const optimizer = await prepareRunOptimizer(engine, run, lora, gradStats, gradScale);
  const hessian = run.optimizer === 'sophia'
    ? await prepareHessianPass({ engine, run, dims, lora, act, ws, chunkLogits: head.chunkLogits, softcap: model.finalLogitSoftcap ?? null })
    : undefined;
  return {
    engine, model, run, dims, layout: lora.layout, base, lora, full, act, ws, forward, backward, dropouts, chunkLogits: head.chunkLogits,
    zeroGrads: sequence(await perChunk(lora, (c) => prepareFill(engine, { y: c.grad, n: c.n, label: c.label('zero grads') }))),
    zeroStepLoss: await prepareFill(engine, { y: stepLoss, n: 1, label: 'zero step loss' }),
    accumulateLoss: await prepareAccumulate(engine, { y: stepLoss, x: ws.ceStats, n: 1, alpha: gradScale, label: 'step loss +=' }),
    accumulateEvalLoss: await prepareAccumulate(engine, { y: evalLoss, x: ws.ceStats, n: 1, alpha: 1, label: 'eval loss +=' }),
    zeroEvalLoss: await prepareFill(engine, { y: evalLoss, n: 1, label: 'zero eval loss' }),
    gradNorm: await prepareGradNorm(engine, { pieces: lora.chunks.map((c, i) => ({ grads: lora.grads.buffers[i], n: c.length })), stats: gradStats, maxNorm: run.gradClip > 0 ? run.gradClip : undefined, gradScale, loss: { buffer: stepLoss, count: 1 }, label: 'grad norm' }),
    optimizer, hessian, stepLoss, evalLoss, gradStats, metrics,
  };
}

/** Point every dropout op at the RNG stream of (step, micro-batch), or turn dropout off (validation). */
export function setDropout(g: TrainGraph, step: number, micro: number, enabled: boolean): void {
  for (const d of g.dropouts) {
    d.op.setEnabled(enabled);
    if (enabled) d.op.setStream(dropoutStream(step, micro, d.layer, d.moduleIndex));
  }
}

/** Record ops into one compute pass. */
export function encodeOps(encoder: GPUCommandEncoder, ops: readonly PreparedOp[], label: string): void {
  const pass = encoder.beginComputePass({ label });
  for (const op of ops) op.encode(pass);
  pass.end();
}

export { GRAD_STATS_BYTES };
