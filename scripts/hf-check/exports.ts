/**
 * The studio's exports of a tiny model, written as a person gets them: the merged bundle through
 * `writeMergedBundle` (as the CLI's `bundle` and the studio's download call it) unzipped into a
 * folder, and a full finetune trained by the CLI (`train` with method "full"), whose folder holds
 * model.safetensors and config.json. The PEFT adapter folder is tiny-models.ts's own export.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { unzipSync } from 'fflate';
import type { ModelConfig } from '../../src/config/model-config';
import { parseModelConfig } from '../../src/config/model-config';
import { Prng } from '../../src/core/rng';
import { openModelSpec } from '../../src/io/model-source/node';
import { fileSource } from '../../src/io/node-file-source';
import { importPeftAdapter } from '../../src/io/peft';
import { openSafetensors } from '../../src/io/safetensors';
import { writeMergedBundle } from '../../src/model/export/bundle';
import type { MergeDtype } from '../../src/model/merge';
import type { TinyModel } from '../llama-cpp-check/tiny-models';

/** Merge the model's adapter into a bundle of `dtype` and unzip it into `dir`; the zip's file names. */
export async function writeBundleFolder(m: TinyModel, dtype: MergeDtype, dir: string): Promise<string[]> {
  const model = await openModelSpec(m.modelDir);
  const chunks: Uint8Array[] = [];
  try {
    const weights = await fileSource(join(m.adapterDir, 'adapter_model.safetensors'));
    const adapter = await importPeftAdapter(weights, readFileSync(join(m.adapterDir, 'adapter_config.json'), 'utf8'), model.config);
    await weights.close();
    const name = `${m.kind}-adapter`;
    await writeMergedBundle({
      model, adapters: [{ adapter, weight: 1, name }], dtype,
      card: { title: `${name} (merged)`, baseModel: model.name, lora: adapter.config },
      sink(chunk) { chunks.push(chunk.slice()); },
    });
  } finally {
    await model.close();
  }
  const zip = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) { zip.set(c, at); at += c.byteLength; }
  mkdirSync(dir, { recursive: true });
  const files = unzipSync(zip);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return Object.keys(files);
}

/** The run config of the full finetune: three AdamW steps large enough to move every weight visibly. */
export const FULL_RUN = {
  method: 'full', basePrecision: 'f32', optimizer: 'adamw', learningRate: 1e-2, schedule: 'constant', maxSteps: 3,
  microBatch: 2, maxSeqLen: 24, seed: 7, weightDecay: 0.01,
} as const;

export interface FullFinetune {
  outDir: string;
  config: ModelConfig;
  /** The weights the CLI wrote, read back from its model.safetensors. */
  weights: Map<string, Float32Array>;
  /** Largest |trained - base| over every weight (0 would mean nothing was trained), and its tensor. */
  maxChange: number;
  maxChangeTensor: string;
  /**
   * The most three AdamW steps can move a weight: each moves it by lr x (|m / sqrt(v)| + decay x |w|),
   * and in the first three steps |m / sqrt(v)| (bias-corrected) is at most 1.004 (Cauchy-Schwarz
   * over the two averages' weights); 1% of slack. The logits comparison runs the reference and
   * transformers on the same file, so it cannot see weights written in another convention (norms as
   * 1 + w, permuted q/k rows, a transposed matrix); those move a weight far more than training can.
   */
  maxAllowedChange: number;
}

/** Train `m` for three steps of full finetuning with the CLI in `root`, and read back what it wrote. */
export async function trainFull(m: TinyModel, root: string, log: (s: string) => void): Promise<FullFinetune> {
  const dir = join(root, `${m.kind}-full`);
  mkdirSync(dir, { recursive: true });
  const rng = new Prng(99, 5);
  const lines = Array.from({ length: 8 }, () => JSON.stringify({ tokens: [1, ...Array.from({ length: 20 }, () => 3 + rng.nextInt(256))] }));
  writeFileSync(join(dir, 'data.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'run.json'), JSON.stringify(FULL_RUN));
  const outDir = join(dir, 'out');
  // The CLI needs WebGPU in Node: the environment the tests use (a browser's SwiftShader Vulkan where there is no GPU).
  const gpuEnv = (await import(pathToFileURL(join(process.cwd(), 'scripts/gpu-env.mjs')).href)) as { prepareGpuEnvironment(): NodeJS.ProcessEnv };
  const args = ['run', '-s', 'cli', '--', 'train', '--model', m.modelDir, '--data', join(dir, 'data.jsonl'), '--config', join(dir, 'run.json'), '--out', outDir];
  log(`     npm ${args.join(' ')}`);
  const r = spawnSync('npm', args, { env: gpuEnv.prepareGpuEnvironment(), encoding: 'utf8' });
  writeFileSync(join(dir, 'train.log'), `${r.stdout ?? ''}${r.stderr ?? ''}`);
  if (r.status !== 0) throw new Error(`the CLI's train failed (exit ${r.status}) for ${m.kind}:\n${r.stderr || r.stdout}`);
  const config = parseModelConfig(JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8')));
  const src = await fileSource(join(outDir, 'model.safetensors'));
  const weights = new Map<string, Float32Array>();
  try {
    const file = await openSafetensors(src);
    for (const name of file.names()) weights.set(name, await file.readF32(name));
  } finally {
    await src.close();
  }
  let maxChange = 0;
  let maxChangeTensor = '';
  let maxAbs = 0;
  for (const [name, w] of weights) {
    const base = m.weights.get(name);
    if (!base || base.length !== w.length) throw new Error(`${outDir}/model.safetensors has ${name} (${w.length} values), which the base model does not have in that size`);
    for (let i = 0; i < w.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(base[i]));
      const d = Math.abs(w[i] - base[i]);
      if (d > maxChange) { maxChange = d; maxChangeTensor = name; }
    }
  }
  const lr = FULL_RUN.learningRate;
  const maxAllowedChange = 1.01 * FULL_RUN.maxSteps * lr * (1 + FULL_RUN.weightDecay * (maxAbs + FULL_RUN.maxSteps * lr));
  return { outDir, config, weights, maxChange, maxChangeTensor, maxAllowedChange };
}
