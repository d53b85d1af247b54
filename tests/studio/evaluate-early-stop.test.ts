/**
 * The studio worker's evaluation and early stopping in Node: a run with early stopping ends before
 * its last step and keeps the best evaluation's adapter, and the run record and the adapter say
 * which step; the Evaluate call scores the base model and that adapter side by side (perplexity of
 * the validation split, multiple choice from an uploaded task file) with progress, and refuses a
 * malformed task file naming its line.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors';
import { memoryKv } from '../../src/io/stores/kv';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { createRunStore } from '../../src/io/stores/runs';
import type { DatasetOptions, EvalProgress, StudioApi, TrainResult } from '../../src/worker/api';
import { createStudio } from '../../src/worker/studio';
import { FIELD_HELP } from '../../src/ui/stores/field-help';
import { labelOf } from '../../src/ui/stores/field-labels';
import { STUDIO_DEFAULTS, validate } from '../../src/ui/stores/run-config';
import { nodeGpu, testGpu } from '../gpu/gpu';
import { alpacaFile, tinyModelFiles } from './tiny-model';

const dataOptions: DatasetOptions = { template: 'model', maskPrompt: true, maxSeqLen: 48, validationFraction: 0.2, seed: 1 };
const available = (await testGpu()) !== null;
let studio: StudioApi;
let trained: TrainResult;

beforeAll(async () => {
  if (!available) return;
  studio = createStudio({ gpu: () => nodeGpu().then((g) => g ?? undefined), runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()) });
  await studio.loadModel({ kind: 'files', files: tinyModelFiles() });
  await studio.loadDataset(alpacaFile(), dataOptions);
});

describe('Configure: early stopping in words', () => {
  it('has a label and a one-line explanation; patience without evaluations is refused in plain words', () => {
    expect(labelOf('earlyStoppingPatience')).toBe('Early stopping patience (evaluations)');
    expect(FIELD_HELP.earlyStoppingPatience).toMatch(/has not improved for this many evaluations.*\(0 = off\)/);
    expect(validate({ ...STUDIO_DEFAULTS }).config?.earlyStoppingPatience).toBe(0);
    const v = validate({ ...STUDIO_DEFAULTS, earlyStoppingPatience: 3, evalEvery: 0 });
    expect(v.config).toBeNull();
    expect(v.errors.earlyStoppingPatience).toBe('early stopping needs validation: set eval every above 0');
  });
});

describe.skipIf(!available)('studio: early stopping and evaluation', () => {
  it('a run with a far too high learning rate stops early; the run and its adapter name the best step', async () => {
    const warnings: string[] = [];
    trained = await studio.startTraining({
      rank: 4, alpha: 8, targets: ['query', 'value', 'mlp'], maxSteps: 40, microBatch: 2, maxSeqLen: 48, evalEvery: 1, learningRate: 0.3,
      schedule: 'constant', warmupSteps: 0, gradClip: 0, earlyStoppingPatience: 2,
    }, (e) => { if (e.type === 'warning') warnings.push(e.message); });
    const { run, adapter } = trained;
    expect(run.status).toBe('completed');
    expect(run.stoppedEarly?.patience).toBe(2);
    expect(run.stoppedEarly!.step).toBeLessThan(40);
    expect(run.final?.steps).toBe(run.stoppedEarly!.step);
    // The adapter kept is the best evaluation's: two evaluations (one per step) before the stop.
    expect(run.adapterStep).toBe(run.final?.bestVal?.step);
    expect(run.stoppedEarly!.step).toBe(run.adapterStep! + 2);
    expect(adapter?.fromStep).toEqual({ step: run.adapterStep, valLoss: run.final?.bestVal?.loss });
    expect(adapter?.name).toContain(`(best: step ${run.adapterStep})`);
    expect(warnings.some((w) => w.includes(`ended after step ${run.stoppedEarly!.step}`) && w.includes(`step ${run.adapterStep}'s`))).toBe(true);
  });

  it('scores the base model and the adapter side by side on the validation split, with progress', async () => {
    const progress: EvalProgress[] = [];
    const r = await studio.evaluateTask({ task: { kind: 'validation' }, base: true, adapterId: trained.adapter!.id }, (p) => progress.push(p));
    expect(r.kind).toBe('perplexity');
    expect(r.n).toBe(5);
    expect(r.scores.map((s) => s.adapterId)).toEqual([null, trained.adapter!.id]);
    for (const s of r.scores) {
      expect(s.n).toBe(5);
      expect(s.perplexity).toBeCloseTo(Math.exp(s.mean_loss!), 3);
    }
    expect(r.scores[0].mean_loss).not.toBeCloseTo(r.scores[1].mean_loss!, 3);
    expect(progress.map((p) => p.index)).toContain(1);
    expect(progress.at(-1)).toMatchObject({ index: 1, count: 2 });
    expect(progress.at(-1)!.done).toBe(progress.at(-1)!.total);
  });

  it('scores an uploaded multiple-choice file; a malformed one is refused with its line', async () => {
    const items = [
      { context: 'Q: Add 1 and 2.\nA: ', choices: ['3.', '5.'], answer: 0 },
      { context: 'Q: Add 2 and 2.\nA: ', choices: ['9.', '4.', '7.'], answer: 1 },
    ];
    const ok = new File([items.map((i) => JSON.stringify(i)).join('\n')], 'mine.jsonl');
    const r = await studio.evaluateTask({ task: { kind: 'upload', file: ok }, base: false, adapterId: trained.adapter!.id });
    expect(r).toMatchObject({ task: 'mine.jsonl', kind: 'mc', n: 2 });
    expect(r.scores).toHaveLength(1);
    expect([0, 0.5, 1]).toContain(r.scores[0].acc);

    const bad = new File([JSON.stringify(items[0]) + '\n{"context": "x", "choices": ["a", "b"], "answer": 2}\n'], 'bad.jsonl');
    const err = await studio.evaluateTask({ task: { kind: 'upload', file: bad }, base: true, adapterId: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toMatch(/^bad\.jsonl, line 2: "answer" must be the index of the right choice/);
    const none = await studio.evaluateTask({ task: { kind: 'validation' }, base: false, adapterId: null }).catch((e: unknown) => e);
    expect((none as Error).message).toMatch(/choose the base model, an adapter, or both/);
  });
});
