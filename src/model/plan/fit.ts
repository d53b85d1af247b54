/**
 * Whether a run's memory plan fits the GPU, and what to change when it does not: the one check that
 * the studio, resume and the CLI make before training, and the explanation of an allocation the
 * device refuses at run time. Every suggested change is checked by a dry-run plan (no GPU work).
 */
import type { Category } from '../../core/memory-categories';
import type { ModelConfig } from '../../config/model-config';
import type { RunConfig } from '../../config/run-config';
import type { GpuFeatures, GpuLimits } from '../../engine/device';
import { OutOfMemoryError } from '../../engine/errors';
import { planMemory, type MemoryPlan } from './memory-plan';

export interface GpuInfo {
  limits: GpuLimits;
  features: GpuFeatures;
}

/** Sizes in messages: MiB (as the GPU limits are usually quoted), KiB below one MiB. */
export const mib = (b: number) => (b < 2 ** 20 ? `${(b / 2 ** 10).toFixed(1)} KiB` : `${(b / 2 ** 20).toFixed(1)} MiB`);

type BufferLimits = Pick<GpuLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize'>;

/** The one-buffer cap and the name of the limit that sets it. */
function bufferCap(limits: BufferLimits): { cap: number; limit: string } {
  return limits.maxStorageBufferBindingSize < limits.maxBufferSize
    ? { cap: limits.maxStorageBufferBindingSize, limit: 'maxStorageBufferBindingSize' }
    : { cap: limits.maxBufferSize, limit: 'maxBufferSize' };
}

/** The category of the largest buffer (the one a refusal blames). */
function categoryOfLargest(plan: MemoryPlan): Category | undefined {
  return plan.buffers.find((b) => b.label === plan.largest.label)?.category;
}

/**
 * Refuse what the GPU cannot allocate before anything starts: an OutOfMemoryError that blames the
 * largest buffer and lists the changes that fit. Every entry point (studio, resume, CLI) calls this.
 */
export async function refuseUnfit(model: ModelConfig, plan: MemoryPlan, run: RunConfig, gpu: GpuInfo): Promise<void> {
  const problems = await fitProblems(model, plan, run, gpu);
  if (!problems.length) return;
  const err = new OutOfMemoryError(plan.largest.bytes, categoryOfLargest(plan) ?? 'unknown', plan.largest.label, bufferCap(gpu.limits).cap, problems[0]);
  err.message = `this configuration cannot run on this GPU: ${problems[0]}`;
  throw err;
}

/** A change to try, and how to say it. */
interface Change { patch: Partial<RunConfig>; say: string }

/** The changes a person would try, by kind, each kind from the mildest to the strongest. */
function changes(run: RunConfig): Change[][] {
  const kinds: Change[][] = [[], []];
  for (let b = run.microBatch >> 1; b >= 1; b >>= 1) kinds[0].push({ patch: { microBatch: b }, say: `micro-batch ${b} (now ${run.microBatch})` });
  for (let t = run.maxSeqLen >> 1; t >= 32; t >>= 1) kinds[1].push({ patch: { maxSeqLen: t }, say: `shorter sequences: ${t} tokens (now ${run.maxSeqLen})` });
  if (!run.activationCheckpointing) kinds.push([{ patch: { activationCheckpointing: true }, say: 'activation checkpointing' }]);
  if (run.activationPrecision === 'f32') kinds.push([{ patch: { activationPrecision: 'bf16' }, say: 'bf16 activations' }]);
  // Full finetuning trains f32 weights: no quantized base; LoRA is the change that shrinks it most.
  if (run.method === 'full') kinds.push([{ patch: { method: 'lora' }, say: 'LoRA instead of full finetuning (no gradients or optimizer state for the base weights)' }]);
  if (run.basePrecision !== 'nf4' && run.method !== 'full') kinds.push([{ patch: { basePrecision: 'nf4', doubleQuant: false }, say: `NF4 base weights (now ${run.basePrecision})` }]);
  if (run.vocabChunk > 1024) kinds.push([{ patch: { vocabChunk: 1024 }, say: `LM-head vocabulary chunk 1024 (now ${run.vocabChunk})` }]);
  return kinds;
}

/**
 * For each kind of change, the mildest one under which `fits(plan)` holds, found by dry-run plans
 * (no GPU work): e.g. ["micro-batch 8 (now 256): largest buffer 512.0 MiB, 1.2 GiB in all"].
 */
export async function changesThatFit(model: ModelConfig, run: RunConfig, gpu: GpuInfo, fits: (p: MemoryPlan) => boolean): Promise<string[]> {
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
 * Why a plan cannot run under these limits (empty when it fits): the buffer above the one-buffer cap,
 * with the concrete changes that make it fit (micro-batch, sequence length, activation
 * checkpointing, NF4), each checked by a dry-run plan. The plan is of a graph already cut to the
 * limits (vocabulary shards, row shards of linears, LoRA state chunks, the MLP's token-row chunks
 * of (N, F)), so what is left above the cap cannot be cut, e.g. an (N, C) activation.
 */
export async function fitProblems(model: ModelConfig, plan: MemoryPlan, run: RunConfig, gpu: GpuInfo): Promise<string[]> {
  const { cap, limit } = bufferCap(gpu.limits);
  if (plan.largest.bytes <= cap) return [];
  const category = categoryOfLargest(plan);
  const big = plan.buffers.filter((b) => b.bytes > cap).map((b) => `"${b.label}" ${mib(b.bytes)}`);
  const fits = await changesThatFit(model, run, gpu, (p) => p.largest.bytes <= cap);
  return [
    `buffer "${plan.largest.label}"${category ? ` (${category})` : ''} needs ${mib(plan.largest.bytes)}, above the ${mib(cap)} this GPU allows in one buffer (${limit})` +
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
export async function explainDeviceOom(e: OutOfMemoryError, model: ModelConfig, run: RunConfig, gpu: GpuInfo): Promise<OutOfMemoryError> {
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
export async function planOrExplain(model: ModelConfig, run: RunConfig, gpu: GpuInfo): Promise<MemoryPlan> {
  try {
    return await planMemory(model, run, gpu.limits, gpu.features);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new RangeError(`this configuration cannot run on this GPU (${e.message}); try a smaller micro-batch (now ${run.microBatch}) or shorter sequences (now ${run.maxSeqLen})`);
  }
}
