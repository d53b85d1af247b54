import type { MicroBatch } from '../../config/micro-batch';
import { createEngine } from '../../engine/context';
import { acquireGpu, type Gpu, type GpuLimitsChoice } from '../../engine/device';
import { nodeGpu } from '../../engine/node-gpu';
import { readFloat32 } from '../../engine/readback';
import { targetsForModules } from '../../config/lora-targets';
import { buildTrainGraph, encodeOps, loraConfigOf, type TrainGraph } from '../../model/graph/train-graph';
import { loraLayout } from '../../model/plan/lora-layout';
import { loraParamsFrom, readLoraTensors } from '../../model/graph/lora-state';
import { parseRunConfig, type RunConfigInput } from '../../config/run-config';
import { submitForward, submitMicroBatch, submitOptimizerStep } from '../../train/step';
import { adapterKey, type GoldenCase } from './golden-case';
import type { GoldenEngine, GoldenResult } from './golden-engine';

/**
 * The golden case on the WebGPU training graph: the same graph a training run uses, with the
 * adapter's weights loaded, one vocabulary chunk (so the logits can be read back), no dropout and
 * no clipping. `extra` adds run options: ones that must not change the result (e.g. activation
 * checkpointing), or bf16 activations (checked against the reference in the same mode). `sizing`
 * cuts every piece for a smaller binding than the device's (so a small model takes each split path a
 * real one takes under a real limit) and lets a test look at the built graph. The caller owns `gpu`;
 * the graph's buffers are freed before returning.
 */
export async function runGoldenOnGpu(
  c: GoldenCase, gpu: Gpu, extra: Partial<RunConfigInput> = {}, sizing: { maxBindingBytes?: number; inspect?: (g: TrainGraph) => void } = {},
): Promise<GoldenResult> {
  const engine = createEngine(gpu);
  const a = c.adapter.config;
  const run = parseRunConfig({
    rank: a.r, alpha: a.alpha, useRslora: a.useRslora, targets: targetsForModules(a.targetModules),
    rankPattern: a.rankPattern, alphaPattern: a.alphaPattern, useDora: a.useDora === true, basePrecision: 'f32', optimizer: 'adamw',
    learningRate: c.adamw.lr, betas: c.adamw.betas, eps: c.adamw.eps, weightDecay: c.adamw.weightDecay,
    schedule: 'constant', gradClip: 0, microBatch: c.B, maxSeqLen: c.T, vocabChunk: c.config.vocabSize, dropout: 0,
    ...extra,
  });
  const load = async (name: string) => {
    const w = c.weights.get(name);
    if (!w) throw new Error(`model.safetensors has no tensor "${name}"`);
    return new Float32Array(w);
  };
  const tensors = new Map(c.adapter.tensors.map((t) => [t.path, { A: t.A, B: t.B, M: t.M }]));
  const layout = loraLayout(c.config, loraConfigOf(run));
  try {
    const g = await buildTrainGraph(engine, c.config, run, { load, initialLora: loraParamsFrom(layout, tensors), maxBindingBytes: sizing.maxBindingBytes });
    sizing.inspect?.(g);
    const batch: MicroBatch = { tokens: Int32Array.from(c.tokens), targets: Int32Array.from(c.targets) };
    const device = gpu.device;

    submitForward(g, batch);
    const logits = await readLogits(g);
    const [loss] = await readFloat32(device, g.ws.ceStats, 1);
    submitMicroBatch(g, batch, 0, 0);
    const grads = await readLoraTensors(engine, g.lora.grads, g.layout);
    submitOptimizerStep(g, 0, c.adamw.lr);
    const after = await readLoraTensors(engine, g.lora.params, g.layout);
    submitForward(g, batch);
    const [lossAfterAdamw] = await readFloat32(device, g.ws.ceStats, 1);
    return { logits, loss, grads: byKey(grads), afterAdamw: byKey(after), lossAfterAdamw };
  } finally {
    engine.pool.destroyAll();
  }
}

/** The raw logits (N, V), one vocabulary chunk at a time (a device's limits may cut the head into several). */
async function readLogits(g: TrainGraph): Promise<Float32Array> {
  const { N, V } = g.dims;
  const device = g.engine.gpu.device;
  const out = new Float32Array(N * V);
  for (const [i, [v0, w]] of g.dims.chunks.entries()) {
    const enc = device.createCommandEncoder({ label: `golden logits [${v0}:${v0 + w}]` });
    encodeOps(enc, g.chunkLogits[i], 'logits chunk');
    device.queue.submit([enc.finish()]);
    const chunk = await readFloat32(device, g.ws.logits, N * w); // (N, w)
    for (let n = 0; n < N; n++) out.set(chunk.subarray(n * w, (n + 1) * w), n * V + v0);
  }
  return out;
}

function byKey(m: Map<string, { A: Float32Array; B: Float32Array; M?: Float32Array }>): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [path, t] of m) {
    out.set(adapterKey(path, 'A'), t.A);
    out.set(adapterKey(path, 'B'), t.B);
    if (t.M) out.set(adapterKey(path, 'M'), t.M);
  }
  return out;
}

/**
 * The golden case on a device of its own (Node, through the `webgpu` package), with the adapter's or
 * WebGPU's default limits; `extra` as in runGoldenOnGpu (e.g. bf16 activations).
 */
export const gpuGoldenEngine = (limits: GpuLimitsChoice = 'adapter', extra: Partial<RunConfigInput> = {}): GoldenEngine => ({
  name: (limits === 'default' ? 'gpu (default limits)' : 'gpu') + (extra.activationPrecision === 'bf16' ? ' (bf16 activations)' : ''),
  async run(c: GoldenCase): Promise<GoldenResult> {
    const gpu = await acquireGpu(await nodeGpu(), { limits });
    try {
      return await runGoldenOnGpu(c, gpu, extra);
    } finally {
      gpu.device.destroy();
    }
  },
});
