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

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** Why a plan cannot run under these limits, each with the change that helps (empty when it fits). */
export function planProblems(plan: MemoryPlan, run: RunConfig, limits: Pick<GpuLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize'>): string[] {
  const { largest } = plan;
  const cap = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
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
  return [
    `buffer "${largest.label}" needs ${mib(largest.bytes)}, above the ${mib(cap)} this GPU allows in one buffer` +
      (fixes.length ? `; try ${fixes.join(', or ')}` : ''),
  ];
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
  private cache = new Map<string, MemoryPlan>();

  async estimate(model: ModelConfig, modelKey: string, run: RunConfig, train: readonly TokenizedExample[] | null, gpu: { limits: GpuLimits; features: GpuFeatures }): Promise<Estimate> {
    const key = JSON.stringify([modelKey, run.rank, run.rankPattern, run.targets, run.basePrecision, run.doubleQuant, run.optimizer, run.momentum,
      run.microBatch, run.maxSeqLen, run.vocabChunk, run.dropout > 0, run.logEvery]);
    let plan = this.cache.get(key);
    if (!plan) {
      plan = await planOrExplain(model, run, gpu);
      if (this.cache.size > 64) this.cache.clear();
      this.cache.set(key, plan);
    }
    const trainableParams = countLoraParams(model, { r: run.rank, targetModules: modulesForTargets(run.targets), rankPattern: run.rankPattern });
    const baseParams = countBaseParams(model);
    const n = train?.length ?? 0;
    const { tokens, loss } = train ? epochTokens(train, run.maxSeqLen) : { tokens: 0, loss: 0 };
    return {
      trainableParams, baseParams, trainablePercent: (100 * trainableParams) / baseParams,
      memory: { byCategory: plan.byCategory, total: plan.total, largest: plan.largest },
      limits: { maxBufferSize: gpu.limits.maxBufferSize, maxStorageBufferBindingSize: gpu.limits.maxStorageBufferBindingSize },
      problems: planProblems(plan, run, gpu.limits),
      examples: n, tokensPerEpoch: tokens, lossTokensPerEpoch: loss,
      microBatchesPerEpoch: Math.ceil(n / run.microBatch),
      steps: n ? totalSteps({ run }, n) : run.maxSteps ?? 0,
    };
  }
}
