/**
 * Early stopping and the best checkpoint on a tiny model: a run with a learning rate far too high
 * stops once the validation loss has not improved for `patience` evaluations; the adapter it keeps
 * holds the parameters of the best evaluation (read at that evaluation and compared bit for bit,
 * and scored again to the same loss), not the last step's. Multi-epoch runs evaluate at each
 * epoch's end besides every evalEvery steps. The kept copy is in the memory plan. A run resumed
 * from a checkpoint taken after its best evaluation keeps that best and stops where it would have.
 */
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/context';
import { readFlats } from '../../src/model/graph/lora-state';
import { buildTrainGraph } from '../../src/model/graph/train-graph';
import { planMemory } from '../../src/model/plan/memory-plan';
import { chainDataset, loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { parseRunConfig, RunConfigError, type RunConfigInput } from '../../src/config/run-config';
import { adapterFromGraph } from '../../src/train/adapter-export';
import type { BestEvaluation } from '../../src/train/early-stopping';
import { restoreTrainState, resumedEarlyStopping, snapshotTrainState, type TrainState } from '../../src/train/checkpoint';
import { buildEvalGraph } from '../../src/train/eval';
import { evaluate } from '../../src/train/step';
import { epochBatches } from '../../src/data/batching';
import { train, type StepEvent } from '../../src/train/trainer';
import { testGpu } from '../gpu/gpu';

const gpu = await testGpu();
const model = tinyModelConfig();
const weights = tinyWeights(model, 3);
const data = chainDataset(model.vocabSize, 10, 16, 5); // 5 micro-batches of 2 per epoch
const validation = chainDataset(model.vocabSize, 4, 16, 6);

const base: RunConfigInput = { maxSeqLen: 12, microBatch: 2, targets: ['query', 'value', 'mlp'], rank: 4, alpha: 8, seed: 3, schedule: 'constant' };

describe('early stopping config', () => {
  it('needs evaluations to count', () => {
    expect(() => parseRunConfig({ earlyStoppingPatience: 2 })).toThrow(RunConfigError);
    expect(parseRunConfig({ earlyStoppingPatience: 2, evalEvery: 5 }).earlyStoppingMinDelta).toBe(0);
  });

  it('the best-parameters copy is planned with the adapter weights', async () => {
    const off = await planMemory(model, parseRunConfig({ ...base, evalEvery: 1 }));
    const on = await planMemory(model, parseRunConfig({ ...base, evalEvery: 1, earlyStoppingPatience: 2 }));
    const copy = on.buffers.find((b) => b.label.startsWith('best lora params'));
    expect(copy?.category).toBe('lora');
    expect(on.byCategory.lora - off.byCategory.lora).toBe(copy!.bytes);
    expect(on.total - off.total).toBe(copy!.bytes);
  });
});

describe.skipIf(!gpu)('early stopping on the GPU', () => {
  it('a run with a far too high learning rate stops early and keeps the best evaluation\'s adapter', async () => {
    const engine = createEngine(gpu!);
    const run = parseRunConfig({ ...base, learningRate: 0.3, maxSteps: 40, evalEvery: 1, earlyStoppingPatience: 3, gradClip: 0 });
    const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights) });
    const bests: BestEvaluation[] = [];
    let atBest: Float32Array | null = null;
    let stopped: { step: number; best: BestEvaluation | null } | null = null;
    const reads: Promise<void>[] = [];
    const events = await train(g, {
      train: data, validation, padId: 0,
      onBest: (b) => {
        bests.push(b);
        // The test reads the live parameters at each new best (the trainer itself never does).
        reads.push(readFlats(engine, [g.lora.params]).then(([p]) => { atBest = p; }));
      },
      onEarlyStop: (e) => { stopped = e; },
    });
    await Promise.all(reads);
    const evals = events.filter((e): e is StepEvent & { evalLoss: number } => e.evalLoss !== undefined);

    expect(stopped, 'stopped early').not.toBeNull();
    const best = bests.at(-1)!;
    expect(stopped!.best).toEqual(best);
    expect(stopped!.step).toBe(best.step + 3); // three evaluations (one per step) without an improvement
    expect(events.at(-1)!.step).toBe(stopped!.step);
    expect(events.length).toBeLessThan(40);
    // The best is the lowest validation loss measured, and every later one is no lower.
    expect(best.loss).toBe(Math.min(...evals.map((e) => e.evalLoss)));
    for (const e of evals.filter((x) => x.step > best.step)) expect(e.evalLoss).toBeGreaterThanOrEqual(best.loss);

    // The kept parameters are those evaluated at the best step, bit for bit; the last step's differ.
    const [kept, last] = await readFlats(engine, [g.lora.best!, g.lora.params]);
    expect(Buffer.from(kept.buffer).equals(Buffer.from(atBest!.buffer))).toBe(true);
    expect(Buffer.from(kept.buffer).equals(Buffer.from(last.buffer))).toBe(false);

    // The exported adapter is that one: scored again, it gives the best validation loss.
    const adapter = await adapterFromGraph(g, 'tiny', g.lora.best);
    const lastAdapter = await adapterFromGraph(g, 'tiny');
    engine.pool.destroyAll();
    const score = async (a: typeof adapter) => {
      const e = createEngine(gpu!);
      const eg = await buildEvalGraph(e, model, loaderOf(weights), a, { maxSeqLen: run.maxSeqLen, microBatch: run.microBatch });
      const loss = await evaluate(eg, epochBatches(validation, eg.dims.B, eg.dims.T, 0, run.seed, 0));
      e.pool.destroyAll();
      return loss;
    };
    expect(await score(adapter)).toBeCloseTo(best.loss, 5);
    expect(Math.abs((await score(lastAdapter)) - best.loss)).toBeGreaterThan(1e-3);
  });

  it('a multi-epoch run evaluates at each epoch\'s end as well as every evalEvery steps', async () => {
    const engine = createEngine(gpu!);
    // 5 micro-batches per epoch, 2 per step: epochs end within steps 3, 5 and 8 (the last); evalEvery adds step 4.
    const run = parseRunConfig({ ...base, learningRate: 1e-3, epochs: 3, gradAccumulation: 2, evalEvery: 4 });
    const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights) });
    const events = await train(g, { train: data, validation, padId: 0 });
    engine.pool.destroyAll();
    expect(events.at(-1)!.step).toBe(8);
    expect(events.filter((e) => e.evalLoss !== undefined).map((e) => e.step)).toEqual([3, 4, 5, 8]);
  });

  it('a run resumed from a checkpoint taken after its best evaluation keeps that best and stops where it would have', async () => {
    const run = parseRunConfig({ ...base, learningRate: 0.3, maxSteps: 40, evalEvery: 1, earlyStoppingPatience: 3, gradClip: 0 });
    const fresh = async () => {
      const engine = createEngine(gpu!);
      return { engine, g: await buildTrainGraph(engine, model, run, { load: loaderOf(weights) }) };
    };
    const outcome = async (g: Awaited<ReturnType<typeof fresh>>['g'], events: StepEvent[], stopped: { step: number; best: BestEvaluation | null } | null) => {
      const [kept] = await readFlats(g.engine, [g.lora.best!]);
      g.engine.pool.destroyAll();
      return { lastStep: events.at(-1)!.step, stopped, kept };
    };

    // Uninterrupted.
    const a = await fresh();
    let stoppedA: { step: number; best: BestEvaluation | null } | null = null;
    const whole = await outcome(a.g, await train(a.g, { train: data, validation, padId: 0, onEarlyStop: (e) => { stoppedA = e; } }), stoppedA);
    const bestStep = whole.stopped!.best!.step;
    expect(whole.stopped!.step).toBeGreaterThan(bestStep + 1);

    // Interrupted one step after the best (a checkpoint then, as the studio takes it), resumed in a new graph.
    const b = await fresh();
    const stop = new AbortController();
    let saved: TrainState | null = null;
    await train(b.g, {
      train: data, validation, padId: 0, signal: stop.signal,
      beforeStep: async (step, at) => {
        if (step !== bestStep + 1) return;
        saved = await snapshotTrainState(b.g, step, at.earlyStopping);
        stop.abort();
      },
    });
    b.engine.pool.destroyAll();
    expect(saved!.earlyStopping).toMatchObject({ best: whole.stopped!.best, sinceBest: 1 });
    expect(saved!.earlyStopping!.bestParams).toHaveLength(saved!.params.length);

    const c = await fresh();
    restoreTrainState(c.g, saved!);
    let stoppedC: { step: number; best: BestEvaluation | null } | null = null;
    const events = await train(c.g, {
      train: data, validation, padId: 0, startStep: saved!.step, earlyStopping: resumedEarlyStopping(saved!),
      onEarlyStop: (e) => { stoppedC = e; },
    });
    const resumed = await outcome(c.g, events, stoppedC);
    expect(resumed.stopped).toEqual(whole.stopped);
    expect(resumed.lastStep).toBe(whole.lastStep);
    expect(Buffer.from(resumed.kept.buffer).equals(Buffer.from(whole.kept.buffer))).toBe(true);
    // Without the checkpoint's early-stopping state the resumed run would take its first evaluation as the best.
    expect(resumedEarlyStopping({ earlyStopping: { best: { step: 3, loss: 1 }, sinceBest: 0 } }), 'a best without parameters is not resumed').toBeUndefined();
  });
});
