/**
 * NaN through the real step loop: a test fault writes NaN into the LoRA parameters before step
 * index 5 (after that step's checkpoint hook), so step 6's loss is NaN. The run stops there with
 * a NonFiniteError naming step 6, is marked failed with that message, and keeps the last good
 * checkpoint (step 4): loadable, finite, never overwritten by the NaN state.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { createCheckpointStore } from '../../src/io/stores/checkpoints';
import { memoryKv } from '../../src/io/stores/kv';
import { createRunStore } from '../../src/io/stores/runs';
import { isFiniteState } from '../../src/train/checkpoint';
import { NonFiniteError } from '../../src/train/trainer';
import type { StudioApi, TrainEvent } from '../../src/worker/api';
import { createStudio } from '../../src/worker/studio';
import { nodeGpu, testGpu } from '../gpu/gpu';
import { alpacaFile, tinyModelFiles } from './tiny-model';

const checkpoints = createCheckpointStore(memoryKv());
let studio: StudioApi;
let available = false;

beforeAll(async () => {
  available = (await testGpu()) !== null;
  if (!available) return;
  studio = createStudio({
    gpu: () => nodeGpu().then((g) => g ?? undefined), runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()), checkpoints,
    faults: { nanAtStep: 5 },
  });
  await studio.loadModel({ kind: 'files', files: tinyModelFiles() });
  await studio.loadDataset(alpacaFile(), { template: 'model', maskPrompt: true, maxSeqLen: 48, validationFraction: 0, seed: 1 });
});

describe('NaN loss', () => {
  it('stops the run at the step it happened and keeps the last good checkpoint', async () => {
    if (!available) return;
    const events: TrainEvent[] = [];
    const err = await studio.startTraining(
      { rank: 4, alpha: 8, targets: ['query', 'value'], maxSteps: 20, microBatch: 2, maxSeqLen: 48, logEvery: 1, evalEvery: 0, checkpointEverySteps: 2 },
      (e) => events.push(e),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect((err as NonFiniteError).step).toBe(6);
    expect((err as Error).message).toMatch(/training stopped at step 6: the loss is NaN or infinite.*The last good checkpoint \(step 4\) is kept/);
    expect(events.filter((e) => e.type === 'step').map((e) => e.type === 'step' && e.point.step)).toEqual([1, 2, 3, 4, 5]);
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => e.type === 'checkpoint' && e.step)).toEqual([2, 4]);

    const [run] = await studio.listRuns();
    expect(run.status).toBe('failed');
    expect(run.error?.message).toMatch(/step 6/);
    const ck = (await checkpoints.load(run.id))!;
    expect(ck.step).toBe(4);
    expect(ck.points.count).toBe(4);
    expect(isFiniteState({ step: ck.step, params: ck.params, moments: ck.optimizer.moments })).toBe(true);
    expect(ck.params.some((x) => x !== 0)).toBe(true);
    expect(await studio.listResumable()).toEqual([]); // a failed run is not offered for resuming
  }, 120_000);
});
