/**
 * What a run will cost before it starts: trainable parameters, the exact memory plan by category
 * (a dry-run build of the graph, so it equals the ledger of the real run), what the GPU's limits
 * allow, tokens per epoch and the number of optimizer steps.
 */
import type { TokenizedExample } from '../data/batching';
import type { GpuFeatures, GpuLimits } from '../engine/device';
import type { ModelConfig } from '../config/model-config';
import { modulesForTargets } from '../config/lora-targets';
import { countBaseParams, countLoraParams } from '../config/param-count';
import type { MemoryPlan } from '../model/plan/memory-plan';
import type { RunConfig } from '../config/run-config';
import { totalSteps } from '../train/trainer';
import type { Estimate } from './api';
import { fitProblems, planOrExplain } from '../model/plan/fit';

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
      run.microBatch, run.maxSeqLen, run.vocabChunk, run.dropout > 0, run.logEvery, run.activationCheckpointing, run.activationPrecision, run.adafactorBeta1 !== null]);
    let cached = this.cache.get(key);
    if (!cached) {
      const p = await planOrExplain(model, run, gpu);
      cached = { plan: p, problems: await fitProblems(model, p, run, gpu) };
      if (this.cache.size > 64) this.cache.clear();
      this.cache.set(key, cached);
    }
    const { plan, problems } = cached;
    // Full finetuning trains every base weight; LoRA only its adapters.
    const trainableParams = run.method === 'full' ? countBaseParams(model) : countLoraParams(model, { r: run.rank, targetModules: modulesForTargets(run.targets), rankPattern: run.rankPattern, useDora: run.useDora });
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
