/**
 * Merge LoRA adapters into a base checkpoint on the CPU, streaming: tensors are read one at a time
 * through the loader, merged (W + the adapters' low-rank terms, see plan.ts) and written to the sink
 * as the next tensor of model.safetensors, so at most one f32 base tensor, its output and one row of
 * scratch are held at once (plus the adapters themselves, which are small).
 */
import type { TensorLoader } from '../../io/model-source/types';
import { convertTensor, mergeLinear, outputArray, type MergeDtype } from './delta';
import { planMerge, type MergeBaseInfo, type MergePlan, type MergePlanOptions, type WeightedAdapter } from './plan';
import { SafetensorsStream, type ByteSink } from '../../io/safetensors/stream';

export interface MergeBase extends MergeBaseInfo {
  /** One base tensor as f32, by name (any stored float dtype). */
  load: TensorLoader;
}

export interface MergeProgress {
  /** Tensors written so far, of `total`. */
  done: number;
  total: number;
  tensor: string;
  /** Bytes of model.safetensors written so far, of `totalBytes`. */
  bytes: number;
  totalBytes: number;
}

export interface MergeOptions extends MergePlanOptions {
  onProgress?: (p: MergeProgress) => void;
  /** Checked between tensors. */
  signal?: AbortSignal;
}

export interface MergeResult {
  /** config.json to save next to model.safetensors. */
  configJson: string;
  plan: MergePlan;
}

/** Write the merged model.safetensors to `sink`; returns the config.json to go with it. */
export async function mergeAdapters(base: MergeBase, adapters: readonly WeightedAdapter[], sink: ByteSink, opts: MergeOptions = {}): Promise<MergeResult> {
  const plan = planMerge(base, adapters, opts);
  await writeMerge(plan, base.load, sink, opts);
  return { configJson: plan.configJson, plan };
}

/** The merged model.safetensors in memory, in one buffer of the exact size (small models, tests). */
export async function mergeAdaptersToBytes(base: MergeBase, adapters: readonly WeightedAdapter[], opts: MergeOptions = {}): Promise<MergeResult & { weights: Uint8Array }> {
  const plan = planMerge(base, adapters, opts);
  const weights = new Uint8Array(plan.totalBytes);
  let at = 0;
  await writeMerge(plan, base.load, (chunk) => {
    weights.set(chunk, at);
    at += chunk.byteLength;
  }, opts);
  return { configJson: plan.configJson, plan, weights };
}

/** Execute a plan: every tensor in order, read, merged and written, one at a time. */
export async function writeMerge(plan: MergePlan, load: TensorLoader, sink: ByteSink, opts: Pick<MergeOptions, 'onProgress' | 'signal'> = {}): Promise<void> {
  const stream = new SafetensorsStream(plan.steps.map((s) => s.entry), sink, plan.metadata);
  await stream.start();
  let bytes = stream.layout.header.byteLength;
  for (const [i, step] of plan.steps.entries()) {
    opts.signal?.throwIfAborted();
    const { entry, rows, cols } = step;
    const dtype = entry.dtype as MergeDtype;
    const W = await load(step.source);
    if (W.length !== rows * cols) {
      throw new RangeError(`merge: base tensor "${step.source}" has ${W.length} values, but its shape [${entry.shape.join(', ')}] needs ${rows * cols}`);
    }
    let out: Float32Array | Uint16Array;
    if (step.terms.length) {
      out = outputArray(dtype, W.length);
      mergeLinear(out, dtype, W, rows, cols, step.terms);
    } else if (dtype === 'F32') {
      out = W; // written as read: no copy
    } else {
      out = outputArray(dtype, W.length);
      convertTensor(out, dtype, W);
    }
    await stream.write(entry.name, out);
    bytes += out.byteLength;
    opts.onProgress?.({ done: i + 1, total: plan.steps.length, tensor: entry.name, bytes, totalBytes: plan.totalBytes });
  }
  stream.end();
}
