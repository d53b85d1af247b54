/**
 * What a run reports beyond its steps, through the worker's API in Node: the base model's
 * validation loss before step 1 (event and record), tokens processed apart from loss tokens, the
 * figures kept while it trains, a stopped run's checkpoint resumed to the end, and a dataset whose
 * prompts do not fit the sequence length refused with the length that fits.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { createCheckpointStore } from '../../src/io/stores/checkpoints';
import { memoryKv } from '../../src/io/stores/kv';
import { createRunStore } from '../../src/io/stores/runs';
import type { DatasetOptions, StudioApi, TrainEvent } from '../../src/worker/api';
import { createStudio } from '../../src/worker/studio';
import { nodeGpu, testGpu } from '../gpu/gpu';
import { alpacaFile, tinyModelFiles } from './tiny-model';

const dataOptions: DatasetOptions = { template: 'model', maskPrompt: true, maxSeqLen: 48, validationFraction: 0.2, seed: 1 };
const run = { rank: 4, alpha: 8, targets: ['query', 'value'], maxSteps: 8, microBatch: 2, maxSeqLen: 48, evalEvery: 4, logEvery: 1, learningRate: 3e-3, schedule: 'constant', checkpointEverySteps: 2 };

let studio: StudioApi;
let available = false;

beforeAll(async () => {
  available = (await testGpu()) !== null;
  if (!available) return;
  studio = createStudio({ gpu: () => nodeGpu().then((g) => g ?? undefined), runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()), checkpoints: createCheckpointStore(memoryKv()) });
  await studio.loadModel({ kind: 'files', files: tinyModelFiles() });
  await studio.loadDataset(alpacaFile(), dataOptions);
});

describe('a run\'s outcome', () => {
  it('measures the base model before step 1, counts processed tokens apart from loss tokens, keeps its figures, names runs apart', async () => {
    if (!available) return;
    const events: TrainEvent[] = [];
    const { run: rec } = await studio.startTraining(run, (e) => events.push(e));
    const types = events.map((e) => e.type);
    const base = events.find((e) => e.type === 'baseline');
    expect(base && base.type === 'baseline' && base.evalLoss).toBeGreaterThan(0);
    expect(types.indexOf('baseline')).toBeLessThan(types.indexOf('step')); // before step 1
    expect(rec.baseValLoss).toBe(base!.type === 'baseline' ? base!.evalLoss : NaN);
    const steps = events.flatMap((e) => (e.type === 'step' ? [e.point] : []));
    for (const p of steps) {
      expect(p.lossTokensPerSecond).toBeGreaterThan(0);
      expect(p.tokensPerSecond).toBeGreaterThan(p.lossTokensPerSecond!); // the prompt is masked from the loss, not from the step
    }
    const losses = steps.map((p) => p.loss);
    expect(rec.final!.trainLossMean).toBeCloseTo(losses.slice(-10).reduce((a, b) => a + b, 0) / Math.min(10, losses.length), 6);
    const evals = steps.filter((p) => p.evalLoss !== undefined);
    const best = evals.reduce((m, p) => (p.evalLoss! < m.evalLoss! ? p : m));
    expect(rec.final!.bestVal).toEqual({ loss: best.evalLoss, step: best.step });
    const again = await studio.startTraining(run, () => {});
    expect(rec.name).toMatch(/^Run \d+ · r4 α8 query\+value f32$/);
    expect(again.run.name).not.toBe(rec.name);
    expect(again.run.seq).toBe(rec.seq! + 1);
  });

  it('a stopped run keeps its checkpoint and resumes from it to the end', async () => {
    if (!available) return;
    const stopped = await studio.startTraining(run, (e) => { if (e.type === 'step' && e.point.step === 3) void studio.stop(); });
    expect(stopped.run.status).toBe('stopped');
    expect(stopped.adapter?.name).toBe(`${stopped.run.name} (step ${stopped.run.final!.steps})`);
    const at = (await studio.checkpointSteps())[stopped.run.id];
    expect(at).toBe(stopped.run.final!.steps);
    const resumed = await studio.resumeRun(stopped.run.id, () => {});
    expect(resumed.run.status).toBe('completed');
    expect((await studio.runPoints(stopped.run.id)).map((p) => p.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await studio.checkpointSteps())[stopped.run.id]).toBeUndefined();
  });

  it('prompts longer than the sequence length: refused with the length that fits', async () => {
    if (!available) return;
    const lines = Array.from({ length: 10 }, (_, i) => JSON.stringify({ instruction: `Please read all of this long instruction before answering ${i}.`, input: '', output: `${i}` }));
    const err = await studio.loadDataset(new File([lines.join('\n')], 'long.jsonl'), { ...dataOptions, maxSeqLen: 16 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toMatch(/longer than the maximum sequence length of 16 tokens/);
    const needed = (err as { neededSeqLen: number }).neededSeqLen;
    expect(needed % 16).toBe(0);
    expect((await studio.loadDataset(new File([lines.join('\n')], 'long.jsonl'), { ...dataOptions, maxSeqLen: needed })).examples).toBe(10);
  });
});
