/**
 * What a run will cost before it starts: trainable parameters, the exact memory plan by category
 * (a dry-run build of the graph, so it equals the ledger of the real run), what the GPU's limits
 * allow, tokens per epoch and the number of optimizer steps.
 */
import type { TokenizedExample } from '../data/batching';
import type { GpuFeatures, GpuLimits } from '../engine/device';
import type { ModelConfig } from '../model/config';
import { modulesForTargets } from '../model/lora-targets';
import { countBaseParams, countLoraParams } from '../model/param-count';
import { planMemory, type MemoryPlan } from '../model/plan/memory-plan';
import type { RunConfig } from '../train/run-config';
import { totalSteps } from '../train/trainer';
import type { Estimate } from './api';
import { OutOfMemoryError } from '../engine/errors';

/** Sizes in messages: MiB (as the GPU limits are usually quoted), KiB below one MiB. */
const mib = (b: number) => (b < 2 ** 20 ? `${(b / 2 ** 10).toFixed(1)} KiB` : `${(b / 2 ** 20).toFixed(1)} MiB`);

type BufferLimits = Pick<GpuLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize'>;

/** The one-buffer cap and the name of the limit that sets it. */
function bufferCap(limits: BufferLimits): { cap: number; limit: string } {
  return limits.maxStorageBufferBindingSize < limits.maxBufferSize
    ? { cap: limits.maxStorageBufferBindingSize, limit: 'maxStorageBufferBindingSize' }
    : { cap: limits.maxBufferSize, limit: 'maxBufferSize' };
}

/** Why a plan cannot run under these limits, each with the change that helps (empty when it fits). */
export function planProblems(plan: MemoryPlan, run: RunConfig, limits: BufferLimits): string[] {
  const { largest } = plan;
  const { cap, limit } = bufferCap(limits);
  if (largest.bytes <= cap) return [];
  const fixes: string[] = [];
  const big = plan.buffers.filter((b) => b.bytes > cap);
  if (big.some((b) => b.category === 'activations' || b.category === 'workspace')) {
    fixes.push(`a smaller micro-batch (now ${run.microBatch}) or shorter sequences (now ${run.maxSeqLen})`);
    if (!run.activationCheckpointing && big.some((b) => b.category === 'activations')) fixes.push('activation checkpointing');
    if (run.vocabChunk > 1024 && big.some((b) => b.label.startsWith('logits'))) fixes.push(`a smaller LM-head vocabulary chunk (now ${run.vocabChunk})`);
  }
  if (big.some((b) => b.category === 'weights') && run.basePrecision !== 'nf4') fixes.push('NF4 base weights');
  if (big.some((b) => ['lora', 'grads', 'optimizer'].includes(b.category))) fixes.push('a lower rank or fewer targets');
  const category = plan.buffers.find((b) => b.label === largest.label)?.category;
  return [
    `buffer "${largest.label}"${category ? ` (${category})` : ''} needs ${mib(largest.bytes)}, above the ${mib(cap)} this GPU allows in one buffer (${limit})` +
      (fixes.length ? `; try ${fixes.join(', or ')}` : ''),
  ];
}

/** A change to try, and how to say it. */
interface Change { patch: Partial<RunConfig>; say: string }

/** The changes a person would try, by kind, each kind from the mildest to the strongest. */
function changes(run: RunConfig): Change[][] {
  const kinds: Change[][] = [[], []];
  for (let b = run.microBatch >> 1; b >= 1; b >>= 1) kinds[0].push({ patch: { microBatch: b }, say: `micro-batch ${b} (now ${run.microBatch})` });
  for (let t = run.maxSeqLen >> 1; t >= 32; t >>= 1) kinds[1].push({ patch: { maxSeqLen: t }, say: `shorter sequences: ${t} tokens (now ${run.maxSeqLen})` });
  if (!run.activationCheckpointing) kinds.push([{ patch: { activationCheckpointing: true }, say: 'activation checkpointing' }]);
  if (run.basePrecision !== 'nf4') kinds.push([{ patch: { basePrecision: 'nf4', doubleQuant: false }, say: `NF4 base weights (now ${run.basePrecision})` }]);
  if (run.vocabChunk > 1024) kinds.push([{ patch: { vocabChunk: 1024 }, say: `LM-head vocabulary chunk 1024 (now ${run.vocabChunk})` }]);
  return kinds;
}

/**
 * For each kind of change, the mildest one under which `fits(plan)` holds, found by dry-run plans
 * (no GPU work): e.g. ["micro-batch 8 (now 256): largest buffer 512.0 MiB, 1.2 GiB in all"].
 */
export async function changesThatFit(model: ModelConfig, run: RunConfig, gpu: { limits: GpuLimits; features: GpuFeatures }, fits: (p: MemoryPlan) => boolean): Promise<string[]> {
  const out: string[] = [];
  for (const kind of changes(run)) {
    for (const c of kind) {
      const plan = await planMemory(model, { ...run, ...c.patch }, gpu.limits, gpu.features).catch(() => null);
      if (plan && fits(plan)) {
        out.push(`${c.say}: largest buffer ${mib(plan.largest.bytes)}, ${mib(plan.total)} in all`);
        break;
      }
    }
  }
  return out;
}

/**
 * Like planProblems, with the concrete changes that make it fit (micro-batch, sequence length,
 * activation checkpointing, NF4), each checked by a dry-run plan.
 */
export async function fitProblems(model: ModelConfig, plan: MemoryPlan, run: RunConfig, gpu: { limits: GpuLimits; features: GpuFeatures }): Promise<string[]> {
  const problems = planProblems(plan, run, gpu.limits);
  if (!problems.length) return problems;
  const { cap, limit } = bufferCap(gpu.limits);
  const big = plan.buffers.filter((b) => b.bytes > cap).map((b) => `"${b.label}" ${mib(b.bytes)}`);
  const fits = await changesThatFit(model, run, gpu, (p) => p.largest.bytes <= cap);
  return [
    `buffer "${plan.largest.label}" needs ${mib(plan.largest.bytes)}, above the ${mib(cap)} this GPU allows in one buffer (${limit})` +
      (big.length > 1 ? `; ${big.length} buffers are too big: ${big.slice(0, 4).join(', ')}${big.length > 4 ? ', ...' : ''}` : '') +
      (fits.length
        ? `. Any one of these fits: ${fits.join('; or ')}`
        : `. No single change fits (a smaller micro-batch, shorter sequences, activation checkpointing, NF4); combine them, or pick a smaller model`),
  ];
}

/**
 * An allocation the device refused at run time (its out-of-memory error scope), as an error that
 * names the sizes and the changes that shrink the run's memory enough to be worth a try.
 */
export async function explainDeviceOom(e: OutOfMemoryError, model: ModelConfig, run: RunConfig, gpu: { limits: GpuLimits; features: GpuFeatures }): Promise<OutOfMemoryError> {
  const plan = await planMemory(model, run, gpu.limits, gpu.features).catch(() => null);
  const need = plan ? `; the run needs ${mib(plan.total)} of GPU memory in all (largest buffer "${plan.largest.label}" ${mib(plan.largest.bytes)})` : '';
  // Without a figure for the device's memory, aim at half of what the run needs now.
  const fits = plan ? await changesThatFit(model, run, gpu, (p) => p.total <= plan.total / 2) : [];
  const why = `the GPU ran out of memory allocating ${mib(e.requestedBytes)} for "${e.label}" (${e.category})${need}` +
    (fits.length ? `. Close other GPU-heavy tabs and apps, or use less memory; each of these halves it: ${fits.join('; or ')}` : '. Close other GPU-heavy tabs and apps, or pick a smaller model');
  const out = new OutOfMemoryError(e.requestedBytes, e.category, e.label, e.limitBytes, why);
  out.message = why;
  return out;
}

/**
 * The memory plan, or an error that says which limit the configuration breaks and what to change
 * (a kernel guard, such as too many workgroups for one dispatch, fires during the dry build).
 */
export async function planOrExplain(model: ModelConfig, run: RunConfig, gpu: { limits: GpuLimits; features: GpuFeatures }): Promise<MemoryPlan> {
  try {
    return await planMemory(model, run, gpu.limits, gpu.features);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new RangeError(`this configuration cannot run on this GPU (${e.message}); try a smaller micro-batch (now ${run.microBatch}) or shorter sequences (now ${run.maxSeqLen})`);
  }
}

/** Tokens a row really holds (T + 1 at most) and those that count in the loss, per epoch. */
export function epochTokens(examples: readonly TokenizedExample[], T: number): { tokens: number; loss: number } {
  let tokens = 0;
  let loss = 0;
  for (const e of examples) {
    const n = Math.min(e.ids.length, T + 1);
    tokens += Math.min(n, T);
    for (let t = 1; t < n; t++) if (e.inLoss?.[t] ?? true) loss++;
  }
  return { tokens, loss };
}

export class Estimator {
  private cache = new Map<string, { plan: MemoryPlan; problems: string[] }>();

  async estimate(model: ModelConfig, modelKey: string, run: RunConfig, train: readonly TokenizedExample[] | null, gpu: { limits: GpuLimits; features: GpuFeatures }): Promise<Estimate> {
    const key = JSON.stringify([modelKey, run.rank, run.rankPattern, run.targets, run.basePrecision, run.doubleQuant, run.optimizer, run.momentum,
      run.microBatch, run.maxSeqLen, run.vocabChunk, run.dropout > 0, run.logEvery, run.activationCheckpointing]);
    let cached = this.cache.get(key);
    if (!cached) {
      const p = await planOrExplain(model, run, gpu);
      cached = { plan: p, problems: await fitProblems(model, p, run, gpu) };
      if (this.cache.size > 64) this.cache.clear();
      this.cache.set(key, cached);
    }
    const { plan, problems } = cached;
    const trainableParams = countLoraParams(model, { r: run.rank, targetModules: modulesForTargets(run.targets), rankPattern: run.rankPattern });
    const baseParams = countBaseParams(model);
    const n = train?.length ?? 0;
    const { tokens, loss } = train ? epochTokens(train, run.maxSeqLen) : { tokens: 0, loss: 0 };
    return {
      trainableParams, baseParams, trainablePercent: (100 * trainableParams) / baseParams,
      memory: { byCategory: plan.byCategory, total: plan.total, largest: plan.largest },
      limits: { maxBufferSize: gpu.limits.maxBufferSize, maxStorageBufferBindingSize: gpu.limits.maxStorageBufferBindingSize },
      problems,
      examples: n, tokensPerEpoch: tokens, lossTokensPerEpoch: loss,
      microBatchesPerEpoch: Math.ceil(n / run.microBatch),
      steps: n ? totalSteps({ run }, n) : run.maxSteps ?? 0,
    };
  }
}
