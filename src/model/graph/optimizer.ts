/**
 * The optimizer of a run over the LoRA state's chunks: the state vectors it keeps, its prepared
 * step with the run's hyper-parameters bound (`setStep(step, lr)`), and for Sophia the
 * Gauss-Newton-Bartlett pass that refreshes the Hessian estimate every k steps on the GPU.
 *
 *   optimizer  state (lora.moments, in checkpoint order)                 P = LoRA parameters
 *   adamw      m (P), v (P)
 *   sgd        momentum (P) unless momentum = 0
 *   lion       m (P)
 *   adafactor  second moment (F: rows + cols of each 2-D tensor), then m (P) only with beta1
 *   sophia     m (P), h (P)
 */
import type { Engine } from '../../engine/context';
import { BufferUsage } from '../../engine/flags';
import type { PreparedOp } from '../../engine/kernels/common';
import { prepareAdafactor, adafactorTable, type AdafactorTensor } from '../../engine/kernels/adafactor';
import { prepareAdamW, prepareLion, prepareSgd, prepareSophia, prepareSophiaHessian, type PreparedOptimizer } from '../../engine/kernels/optim';
import { prepareSampleLabelsChunk, type PreparedSampleLabels } from '../../engine/kernels/sample-labels';
import type { AdafactorParams } from '../../reference/adafactor';
import type { LionParams } from '../../reference/lion';
import type { AdamWParams, SgdParams } from '../../reference/optim';
import type { SophiaParams } from '../../reference/sophia';
import type { RunConfig } from '../../config/run-config';
import type { LoraChunk } from '../plan/lora-chunks';
import type { LoraLayout } from '../plan/lora-layout';
import type { Activations, Workspace } from './activations';
import { perChunk, sequence, sequenceOptimizers } from './chunked-ops';
import type { GraphDims } from './dims';
import { allocFlat, type LoraState } from './lora-state';

/** The P-sized state vectors of a run's optimizer (Adafactor's factored second moment comes on top, see `prepareRunOptimizer`). */
export function optimizerBufferCount(run: RunConfig): number {
  switch (run.optimizer) {
    case 'adamw': case 'sophia': return 2;
    case 'lion': return 1;
    case 'adafactor': return run.adafactorBeta1 === null ? 0 : 1;
    case 'sgd': return run.momentum > 0 ? 1 : 0;
  }
}

export function adamwParams(run: RunConfig, lr: number): AdamWParams {
  return { lr, beta1: run.betas[0], beta2: run.betas[1], eps: run.eps, weightDecay: run.weightDecay };
}

export function sgdParams(run: RunConfig, lr: number): SgdParams {
  return { lr, momentum: run.momentum, dampening: 0, nesterov: run.nesterov, weightDecay: run.weightDecay };
}

export function lionParams(run: RunConfig, lr: number): LionParams {
  return { lr, beta1: run.lionBetas[0], beta2: run.lionBetas[1], weightDecay: run.weightDecay };
}

export function adafactorParams(run: RunConfig, lr: number): AdafactorParams {
  return {
    lr, eps1: run.adafactorEps[0], eps2: run.adafactorEps[1], clipThreshold: run.adafactorClipThreshold, decayRate: run.adafactorDecayRate,
    beta1: run.adafactorBeta1, weightDecay: run.weightDecay, scaleParameter: run.adafactorScaleParameter,
  };
}

export function sophiaParams(run: RunConfig, lr: number): SophiaParams {
  return { lr, beta1: run.sophiaBetas[0], beta2: run.sophiaBetas[1], rho: run.sophiaRho, weightDecay: run.weightDecay };
}

/** An optimizer with its hyper-parameters bound to the run: setStep(step, lr). */
function bind<H>(op: PreparedOptimizer<H>, hp: (lr: number) => H): PreparedOptimizer<number> {
  return { ...op, setStep: (step, lr) => op.setStep(step, hp(lr)) };
}

/** The tensors of LoRA chunk `c`, at offsets inside the chunk: A (r, in) and B (out, r) of every slot that starts in it. */
export function chunkTensors(layout: LoraLayout, c: LoraChunk): AdafactorTensor[] {
  const out: AdafactorTensor[] = [];
  for (const s of layout.slots) {
    for (const [offset, shape, what] of [[s.offsetA, [s.r, s.inFeatures], 'A'], [s.offsetB, [s.outFeatures, s.r], 'B']] as const) {
      const size = shape[0] * shape[1];
      const inside = offset >= c.start && offset < c.start + c.length;
      if (inside && offset + size > c.start + c.length) {
        throw new RangeError(`Adafactor needs each LoRA tensor in one GPU binding, but ${s.path} ${what} (${shape.join(', ')}) is cut in pieces; ` +
          'use a smaller rank for this module (rank_pattern), leave it out of the targets, or choose another optimizer');
      }
      if (inside) out.push({ offset: offset - c.start, shape });
    }
  }
  return out.sort((a, b) => a.offset - b.offset);
}

/**
 * Adafactor's factored second moment as one more state vector (F values, in tensor order), cut like
 * the LoRA state: chunk i holds the second moments of the tensors of LoRA chunk i. Put first in
 * lora.moments.
 */
async function addAdafactorState(engine: Engine, lora: LoraState): Promise<AdafactorTensor[][]> {
  const tensors = lora.chunks.map((c) => chunkTensors(lora.layout, c));
  const chunks: LoraChunk[] = [];
  let start = 0;
  tensors.forEach((t, i) => {
    const length = adafactorTable(t, lora.chunks[i].length).stateLength;
    chunks.push({ start, length });
    start += length;
  });
  lora.moments.unshift(await allocFlat(engine, chunks, 'optimizer', 'adafactor second moment'));
  return tensors;
}

/**
 * The run's optimizer over every chunk of `lora` (whose moments hold `optimizerBufferCount(run)`
 * vectors; Adafactor adds its own). `stats` are the grad-norm stats (clip coefficient, non-finite
 * flag); `gradScale` 1 / accumulation steps.
 */
export async function prepareRunOptimizer(
  engine: Engine, run: RunConfig, lora: LoraState, stats: GPUBuffer, gradScale: number,
): Promise<PreparedOptimizer<number>> {
  const common = { stats, gradScale };
  switch (run.optimizer) {
    case 'adamw':
      return bind(sequenceOptimizers(await perChunk(lora, (c) => prepareAdamW(engine, { ...common, param: c.param, grad: c.grad, n: c.n, m: c.moments[0], v: c.moments[1], label: c.label('adamw') }))), (lr) => adamwParams(run, lr));
    case 'sgd':
      return bind(sequenceOptimizers(await perChunk(lora, (c) => prepareSgd(engine, { ...common, param: c.param, grad: c.grad, n: c.n, momentumBuffer: c.moments[0] ?? null, label: c.label('sgd') }, sgdParams(run, 0)))), (lr) => sgdParams(run, lr));
    case 'lion':
      return bind(sequenceOptimizers(await perChunk(lora, (c) => prepareLion(engine, { ...common, param: c.param, grad: c.grad, n: c.n, m: c.moments[0], label: c.label('lion') }))), (lr) => lionParams(run, lr));
    case 'sophia':
      return bind(sequenceOptimizers(await perChunk(lora, (c) => prepareSophia(engine, { ...common, param: c.param, grad: c.grad, n: c.n, m: c.moments[0], h: c.moments[1], label: c.label('sophia') }))), (lr) => sophiaParams(run, lr));
    case 'adafactor': {
      const tensors = await addAdafactorState(engine, lora);
      let i = 0;
      return bind(sequenceOptimizers(await perChunk(lora, (c) => prepareAdafactor(engine, {
        ...common, param: c.param, grad: c.grad, n: c.n, tensors: tensors[i++], sq: c.moments[0], m: c.moments[1] ?? null, label: c.label('adafactor'),
      }))), (lr) => adafactorParams(run, lr));
    }
  }
}

/**
 * Sophia's Gauss-Newton-Bartlett estimate (Liu et al. 2023, Algorithm 2), all on the GPU: after
 * the forward of a micro-batch, labels are sampled from the model's own softmax into the valid
 * targets (`sample`: per vocabulary chunk, its logits then the sampler), the ordinary backward
 * gives g_hat, the gradient of the mean loss on those labels, and `update` folds B g_hat^2 into h.
 */
export interface HessianPass {
  /** per vocabulary chunk: recompute its logits, sample; the last chunk writes the labels into act.targets */
  sample: PreparedOp[];
  /** h = beta2 h + (1 - beta2) B g_hat^2 over every chunk of the state */
  update: PreparedOp;
  /** Draw the labels of optimizer step `step` (0-based). */
  setStep(step: number): void;
}

export interface HessianPassContext {
  engine: Engine;
  run: RunConfig;
  dims: GraphDims;
  lora: LoraState;
  act: Activations;
  ws: Workspace;
  /** per vocabulary chunk [v0, w] of dims.chunks, the ops that write its logits (N, w) into ws.logits */
  chunkLogits: PreparedOp[][];
  /** the model's final logit softcap, or null */
  softcap: number | null;
}

export async function prepareHessianPass(c: HessianPassContext): Promise<HessianPass> {
  const { engine, dims: d, lora } = c;
  const small = (label: string) => engine.pool.alloc({ size: 4 * d.N, usage: BufferUsage.STORAGE, category: 'workspace', label });
  const best = { score: await small(`sampled label score (${d.N})`), index: await small(`sampled label index (${d.N})`) };
  const samplers: PreparedSampleLabels[] = [];
  const sample: PreparedOp[] = [];
  for (const [i, [v0, w]] of d.chunks.entries()) {
    const op = await prepareSampleLabelsChunk(engine, {
      best, logits: c.ws.logits, targets: c.act.targets, N: d.N, V: d.V, v0, Vc: w, softcap: c.softcap, seed: c.run.seed,
      first: i === 0, last: i === d.chunks.length - 1, label: `sample labels [${v0}:${v0 + w}]`,
    });
    samplers.push(op);
    sample.push(...c.chunkLogits[i], op);
  }
  const update = sequence(await perChunk(lora, (k) => prepareSophiaHessian(engine, {
    h: k.moments[1], grad: k.grad, ceStats: c.ws.ceStats, n: k.n, beta2: c.run.sophiaBetas[1], label: k.label('sophia hessian'),
  })));
  return { sample, update, setStep: (step) => samplers.forEach((s) => s.setStep(step)) };
}
