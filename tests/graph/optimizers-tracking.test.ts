/**
 * Lion, Adafactor and Sophia inside the training graph against the CPU reference on a tiny model:
 * the LoRA parameters after one step and after ten, and the ten losses. The reference runs the same
 * micro-batches through `lossAndGrads`, clips as torch does and steps each tensor with
 * src/reference/{lion,adafactor,sophia}.ts; for Sophia it also draws the same labels from the model's
 * softmax (`sampleLabels`) for the Gauss-Newton-Bartlett estimate every k steps.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../../src/engine/context';
import { epochBatches } from '../../src/data/batching';
import { buildTrainGraph, loraConfigOf } from '../../src/model/graph/train-graph';
import { adafactorParams, lionParams, sophiaParams } from '../../src/model/graph/optimizer';
import { initialLoraParams, readFlats, readLoraTensors } from '../../src/model/graph/lora-state';
import { loraLayout } from '../../src/model/plan/lora-layout';
import {
  adafactorStateLength, adafactorStep, clipGradNorm, forward, lionStep, lossAndGrads, sampleLabels, sophiaHessianUpdate, sophiaStep, type LoraWeights,
} from '../../src/reference';
import { parseRunConfig, type RunConfig, type RunConfigInput } from '../../src/config/run-config';
import type { ModelConfig } from '../../src/config/model-config';
import { readStepMetrics, submitMicroBatch, submitOptimizerStep } from '../../src/train/step';
import { mismatches, testGpu } from '../gpu/gpu';
import { chainDataset, loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';

const gpu = await testGpu();
const STEPS = 10;
const engines: Engine[] = [];
afterAll(() => engines.forEach((e) => e.pool.destroyAll()));

type Tensors = Map<string, { A: Float32Array; B: Float32Array }>;

/** Per-tensor optimizer state of the reference: one record per LoRA tensor (A and B of every module). */
interface RefState { a: Float32Array; b: Float32Array }

/** The CPU reference run: STEPS optimizer steps, returning the parameters after step 1 and after the last, and the losses. */
function referenceRun(model: ModelConfig, weights: Map<string, Float32Array>, run: RunConfig, batches: ReturnType<typeof epochBatches>) {
  const layout = loraLayout(model, loraConfigOf(run));
  const flat = initialLoraParams(layout, run.seed);
  const lora: LoraWeights = new Map(layout.slots.map((s) => [s.path, {
    A: flat.slice(s.offsetA, s.offsetA + s.r * s.inFeatures), B: flat.slice(s.offsetB, s.offsetB + s.outFeatures * s.r), r: s.r, scale: s.scale,
  }]));
  const shapes = new Map(layout.slots.map((s) => [s.path, { A: [s.r, s.inFeatures], B: [s.outFeatures, s.r] }]));
  const zeros = (kind: 'P' | 'F') => new Map(layout.slots.map((s): [string, RefState] => {
    const sh = shapes.get(s.path)!;
    const len = (shape: number[]) => (kind === 'P' ? shape[0] * shape[1] : adafactorStateLength(shape));
    return [s.path, { a: new Float32Array(len(sh.A)), b: new Float32Array(len(sh.B)) }];
  }));
  const m = zeros('P'), h = zeros('P'), sq = zeros('F');
  const refModel = { config: model, weights };
  const losses: number[] = [];
  let afterOne: Tensors | null = null;
  for (let step = 0; step < STEPS; step++) {
    const batch = batches[step % batches.length];
    const lr = run.learningRate;
    const { loss, grads } = lossAndGrads(refModel, lora, batch.tokens, batch.targets, run.microBatch, run.maxSeqLen);
    losses.push(loss);
    clipGradNorm([...grads.values()].flatMap((x) => [x.dA, x.dB]), run.gradClip);
    for (const [path, w] of lora) {
      const g = grads.get(path)!;
      for (const [p, gr, k, shape] of [[w.A, g.dA, 'a', shapes.get(path)!.A], [w.B, g.dB, 'b', shapes.get(path)!.B]] as const) {
        if (run.optimizer === 'lion') lionStep(p, gr, m.get(path)![k], lionParams(run, lr));
        else if (run.optimizer === 'sophia') sophiaStep(p, gr, m.get(path)![k], h.get(path)![k], sophiaParams(run, lr));
        else adafactorStep(p, gr, shape, sq.get(path)![k], run.adafactorBeta1 === null ? null : m.get(path)![k], step + 1, adafactorParams(run, lr));
      }
    }
    if (run.optimizer === 'sophia' && (step + 1) % run.sophiaHessianEvery === 0) {
      // the GPU samples on the step's micro-batch after the update: labels from the model's own softmax, then B g_hat^2
      const { logits, count } = forward(refModel, lora, batch.tokens, batch.targets, run.microBatch, run.maxSeqLen);
      const sampled = sampleLabels(logits, batch.targets, run.microBatch * run.maxSeqLen, model.vocabSize, run.seed, step);
      const gHat = lossAndGrads(refModel, lora, batch.tokens, sampled, run.microBatch, run.maxSeqLen).grads;
      for (const [path, st] of h) {
        sophiaHessianUpdate(st.a, gHat.get(path)!.dA, count, run.sophiaBetas[1]);
        sophiaHessianUpdate(st.b, gHat.get(path)!.dB, count, run.sophiaBetas[1]);
      }
    }
    if (step === 0) afterOne = new Map([...lora].map(([p, w]) => [p, { A: Float32Array.from(w.A), B: Float32Array.from(w.B) }]));
  }
  return { afterOne: afterOne!, last: new Map([...lora].map(([p, w]) => [p, { A: w.A, B: w.B }])) as Tensors, losses, h };
}

function compareTensors(got: Tensors, want: Tensors, what: string, lr: number) {
  for (const [path, w] of want) {
    const g = got.get(path)!;
    // sign-based steps (Lion, Sophia before its first estimate) may flip a coordinate whose momentum
    // is ~0, a 2 lr difference: 1 in 500 such coordinates is tolerated, no larger difference is
    for (const [name, a, b] of [['A', g.A, w.A], ['B', g.B, w.B]] as const) {
      const far = Array.from(a).filter((x, i) => Math.abs(x - b[i]) > 2e-5 + 1e-4 * Math.abs(b[i]));
      const worst = Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));
      expect(far.length, `${what} ${path} ${name}: ${mismatches(a, b, 2e-5, 1e-4)}`).toBeLessThanOrEqual(Math.floor(a.length / 500));
      expect(worst, `${what} ${path} ${name}`).toBeLessThanOrEqual(2.01 * lr + 1e-5);
    }
  }
}

const CASES: { name: string; over: RunConfigInput; model?: Partial<ModelConfig> }[] = [
  { name: 'Lion', over: { optimizer: 'lion', learningRate: 2e-3, weightDecay: 0.1 } },
  { name: 'Adafactor (no first moment)', over: { optimizer: 'adafactor', learningRate: 2e-2 } },
  { name: 'Adafactor with beta1 0.9 and the parameter scale', over: { optimizer: 'adafactor', learningRate: 0.5, adafactorBeta1: 0.9, adafactorScaleParameter: true, weightDecay: 0.01 } },
  // a final softcap (Gemma 2's) on the logits the labels are sampled from; an estimate after steps 3, 6 and 9
  // (rho 1, so that the Hessian, not the clipping, sets most steps)
  { name: 'Sophia (Hessian every 3 steps, softcapped logits)', over: { optimizer: 'sophia', learningRate: 2e-3, sophiaHessianEvery: 3, sophiaRho: 1, weightDecay: 0.1 }, model: { finalLogitSoftcap: 5 } },
];

describe.skipIf(!gpu)('Lion, Adafactor and Sophia in the training graph vs the CPU reference', () => {
  for (const c of CASES) {
    it(`${c.name}: parameters after 1 and ${STEPS} steps, and the ${STEPS} losses`, async () => {
      const model = tinyModelConfig(c.model);
      const weights = tinyWeights(model, 3);
      const data = chainDataset(model.vocabSize, 16, 13, 3);
      const run = parseRunConfig({
        maxSeqLen: 12, microBatch: 4, maxSteps: STEPS, schedule: 'constant', gradClip: 1, targets: ['query', 'value', 'mlp', 'head'],
        rank: 3, alpha: 6, logEvery: STEPS, vocabChunk: 64, seed: 9, ...c.over,
      });
      const engine = createEngine(gpu!);
      engines.push(engine);
      const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights) });
      const batches = epochBatches(data, run.microBatch, run.maxSeqLen, 0, run.seed, 0);
      const ref = referenceRun(model, weights, run, batches);
      let afterOne: Tensors | null = null;
      for (let step = 0; step < STEPS; step++) {
        submitMicroBatch(g, batches[step % batches.length], step, 0);
        submitOptimizerStep(g, step, run.learningRate);
        if (step === 0) afterOne = await readLoraTensors(engine, g.lora.params, g.layout);
      }
      const losses = (await readStepMetrics(g, STEPS - 1, STEPS)).map((x) => x.loss);
      console.log(`${c.name}\n  gpu ${losses.map((x) => x.toFixed(4)).join(' ')}\n  ref ${ref.losses.map((x) => x.toFixed(4)).join(' ')}`);
      compareTensors(afterOne!, ref.afterOne, 'after 1 step', run.learningRate);
      compareTensors(await readLoraTensors(engine, g.lora.params, g.layout), ref.last, `after ${STEPS} steps`, run.learningRate);
      expect(mismatches(losses, ref.losses, 1e-4, 1e-3)).toBeNull();
      if (run.optimizer === 'sophia') {
        // the Hessian estimate itself: GPU-sampled labels, backward and B g_hat^2 against the reference's
        const [h] = await readFlats(engine, [g.lora.moments[1]]);
        for (const s of g.layout.slots) {
          const want = ref.h.get(s.path)!;
          expect(mismatches(h.subarray(s.offsetA, s.offsetA + want.a.length), want.a, 1e-9, 1e-3), `${s.path} h of A`).toBeNull();
          expect(mismatches(h.subarray(s.offsetB, s.offsetB + want.b.length), want.b, 1e-9, 1e-3), `${s.path} h of B`).toBeNull();
          expect(want.a.some((x) => x > 0) || want.b.some((x) => x > 0)).toBe(true);
        }
      }
      // 13 examples make 4 micro-batches an epoch: steps 1 and 9 see the same one
      expect(batches.length).toBe(4);
      expect(losses[8]).toBeLessThan(losses[0]);
      engine.pool.destroyAll();
    }, 120_000);
  }
});
