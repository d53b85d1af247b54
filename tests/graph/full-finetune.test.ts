/**
 * Full finetuning (run.method 'full') against PyTorch: the gradient of every base weight (embedding,
 * every linear, every norm, Qwen2's q/k/v biases, the untied head) and every weight after one AdamW
 * step, from scripts/golden/make_golden.py --full; then the exported model.safetensors, loaded by our
 * own loader into a fresh graph, gives the trained graph's logits. The CPU reference's full
 * gradients against the same cases (row shards: ./full-finetune-shards.test.ts).
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/config/model-config';
import { parseRunConfig } from '../../src/config/run-config';
import type { Engine } from '../../src/engine/context';
import { createEngine } from '../../src/engine/context';
import { readFloat32 } from '../../src/engine/readback';
import { bytesSource } from '../../src/io/safetensors/byte-source';
import { openSafetensors, type SafetensorsFile } from '../../src/io/safetensors/reader';
import { fullModelSafetensors } from '../../src/model/export/full-model';
import { planMemory } from '../../src/model/plan/memory-plan';
import { readFullTensors } from '../../src/model/graph/full-state';
import { buildTrainGraph, encodeOps, type TrainGraph } from '../../src/model/graph/train-graph';
import { submitForward, submitMicroBatch, submitOptimizerStep } from '../../src/train/step';
import { fullLossAndGrads } from '../../src/reference';
import { testGpu } from '../gpu/gpu';

const gpu = await testGpu();

const open = async (bytes: Uint8Array, name: string) => openSafetensors(bytesSource(bytes, name));

/** Logits (N, V) of the last forward (one vocabulary chunk: vocabChunk = V). */
async function logitsOf(g: TrainGraph): Promise<Float32Array> {
  const device = g.engine.gpu.device;
  const enc = device.createCommandEncoder();
  encodeOps(enc, g.chunkLogits[0], 'logits');
  device.queue.submit([enc.finish()]);
  return readFloat32(device, g.ws.logits, g.dims.N * g.dims.V);
}

/** Indices where |got - want| > atol + rtol |want|, with the worst one for the message. */
function mismatch(name: string, got: Float32Array, want: Float32Array, atol: number, rtol: number): string | null {
  if (got.length !== want.length) return `${name}: ${got.length} values, expected ${want.length}`;
  let bad = 0;
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= atol + rtol * Math.abs(want[i]))) {
      bad++;
      if (!(err <= worstErr)) [worst, worstErr] = [i, err];
    }
  }
  return bad ? `${name}: ${bad} of ${want.length} differ, worst [${worst}] ${got[worst]} vs ${want[worst]}` : null;
}

async function build(engine: Engine, dir: string, weights: SafetensorsFile, B: number, T: number, adamw: { lr: number; weight_decay: number; betas: [number, number]; eps: number }) {
  const config = parseModelConfig(JSON.parse(await readFile(`${dir}/config.json`, 'utf8')));
  const run = parseRunConfig({
    method: 'full', basePrecision: 'f32', optimizer: 'adamw', learningRate: adamw.lr, betas: adamw.betas, eps: adamw.eps,
    weightDecay: adamw.weight_decay, schedule: 'constant', gradClip: 0, microBatch: B, maxSeqLen: T, vocabChunk: config.vocabSize,
  });
  return buildTrainGraph(engine, config, run, { load: (name) => weights.readF32(name) as Promise<Float32Array<ArrayBuffer>> });
}

describe.skipIf(!gpu)('full finetuning vs PyTorch golden', () => {
  for (const name of ['gemma3-tiny-full', 'qwen3-untied-full', 'qwen2-tiny-full']) {
    it(`${name}: loss, every base weight's gradient, one AdamW step; the exported model gives the trained logits`, async () => {
      const dir = `tests/fixtures/golden/${name}`;
      const exp = JSON.parse(await readFile(`${dir}/expected.json`, 'utf8'));
      const expected = await open(new Uint8Array(await readFile(`${dir}/expected.safetensors`)), 'expected.safetensors');
      const model = await open(new Uint8Array(await readFile(`${dir}/model.safetensors`)), 'model.safetensors');
      const [B, T] = expected.info('tokens').shape;
      const batch = { tokens: Int32Array.from(await expected.readF32('tokens')), targets: Int32Array.from(await expected.readF32('targets')) };
      const engine = createEngine(gpu!);
      try {
        const g = await build(engine, dir, model, B, T, exp.adamw);
        const full = g.full!;
        expect(g.layout.slots).toEqual([]);
        const problems: (string | null)[] = [];
        submitForward(g, batch);
        const [loss] = await readFloat32(gpu!.device, g.ws.ceStats, 1);
        expect(Math.abs(loss - exp.loss)).toBeLessThan(1e-4 + 1e-4 * Math.abs(exp.loss));
        problems.push(mismatch('logits', await logitsOf(g), await expected.readF32('logits'), 1e-4, 1e-4));

        submitMicroBatch(g, batch, 0, 0);
        const grads = await readFullTensors(engine, full, full.state.grads);
        expect([...grads.keys()].sort()).toEqual([...exp.parameters].sort());
        for (const [k, t] of grads) problems.push(mismatch(`${k}.grad`, t.data, await expected.readF32(`${k}.grad`), 1e-4, 1e-3));

        submitOptimizerStep(g, 0, exp.adamw.lr);
        const after = await readFullTensors(engine, full, full.state.params);
        for (const [k, t] of after) problems.push(mismatch(`${k}.after_adamw_1`, t.data, await expected.readF32(`${k}.after_adamw_1`), 1e-4, 1e-3));
        submitForward(g, batch);
        const [loss2] = await readFloat32(gpu!.device, g.ws.ceStats, 1);
        expect(Math.abs(loss2 - exp.loss_after_adamw_1)).toBeLessThan(1e-3 + 1e-3 * Math.abs(exp.loss_after_adamw_1));
        expect(problems.filter(Boolean)).toEqual([]);

        // Export, load into a fresh graph through the loader a run uses, and compare logits bit for bit.
        const trained = await logitsOf(g);
        const exported = await open(await fullModelSafetensors(engine, full), 'exported model.safetensors');
        expect(exported.names().sort()).toEqual([...exp.parameters].sort());
        const g2 = await build(engine, dir, exported, B, T, exp.adamw);
        submitForward(g2, batch);
        expect(await logitsOf(g2)).toEqual(trained);
      } finally {
        engine.pool.destroyAll();
      }
    });
  }
});

describe('the CPU reference\'s full-finetuning gradients vs PyTorch golden', () => {
  for (const name of ['gemma3-tiny-full', 'qwen3-untied-full', 'qwen2-tiny-full']) {
    it(`${name}: loss and the gradient of every base weight`, async () => {
      const dir = `tests/fixtures/golden/${name}`;
      const exp = JSON.parse(await readFile(`${dir}/expected.json`, 'utf8'));
      const expected = await open(new Uint8Array(await readFile(`${dir}/expected.safetensors`)), 'expected.safetensors');
      const file = await open(new Uint8Array(await readFile(`${dir}/model.safetensors`)), 'model.safetensors');
      const config = parseModelConfig(JSON.parse(await readFile(`${dir}/config.json`, 'utf8')));
      const weights = new Map<string, Float32Array>();
      for (const k of file.names()) weights.set(k, await file.readF32(k));
      const [B, T] = expected.info('tokens').shape;
      const tokens = Int32Array.from(await expected.readF32('tokens'));
      const targets = Int32Array.from(await expected.readF32('targets'));
      const ref = fullLossAndGrads({ config, weights }, tokens, targets, B, T);
      expect(Math.abs(ref.loss - exp.loss)).toBeLessThan(1e-4 + 1e-4 * Math.abs(exp.loss));
      expect([...ref.grads.keys()].sort()).toEqual([...exp.parameters].sort());
      const problems: (string | null)[] = [];
      for (const [k, g] of ref.grads) problems.push(mismatch(`${k}.grad`, Float32Array.from(g), await expected.readF32(`${k}.grad`), 1e-4, 1e-3));
      expect(problems.filter(Boolean)).toEqual([]);
    });
  }
});

describe('full finetuning: config and memory plan', () => {
  it('refuses a base precision other than f32 and optimizers other than AdamW and SGD, naming the field', () => {
    expect(() => parseRunConfig({ method: 'full', basePrecision: 'nf4' })).toThrow(/basePrecision: full finetuning trains the base weights in f32/);
    expect(() => parseRunConfig({ method: 'full', optimizer: 'lion' })).toThrow(/optimizer: full finetuning supports the adamw and sgd/);
    expect(parseRunConfig({}).method).toBe('lora');
  });

  for (const name of ['qwen3-untied-full', 'qwen2-tiny-full']) {
    it(`${name}: plans weights + gradients + two AdamW moments of every base weight (biases too), and no LoRA state`, async () => {
      const config = parseModelConfig(JSON.parse(await readFile(`tests/fixtures/golden/${name}/config.json`, 'utf8')));
      const base = { basePrecision: 'f32' as const, microBatch: 2, maxSeqLen: 12 };
      const full = await planMemory(config, parseRunConfig({ ...base, method: 'full' }));
      const lora = await planMemory(config, parseRunConfig({ ...base, method: 'lora' }));
      expect(full.byCategory.weights).toBe(lora.byCategory.weights);
      expect(full.byCategory.grads).toBe(full.byCategory.weights);
      expect(full.byCategory.optimizer).toBe(2 * full.byCategory.weights);
      expect(full.byCategory.lora).toBe(0);
      expect(full.total).toBeGreaterThan(lora.total + 2.5 * full.byCategory.weights);
    });
  }
});
