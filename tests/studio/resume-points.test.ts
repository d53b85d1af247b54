/** A resumed run's curve: the points after its checkpoint are dropped (across chunk boundaries) before new ones follow. */
import { describe, expect, it } from 'vitest';
import { memoryKv } from '../../src/io/stores/kv';
import { createRunStore, POINTS_PER_CHUNK, type StepPoint } from '../../src/io/stores/runs';
import { parseRunConfig } from '../../src/config/run-config';

const point = (step: number): StepPoint => ({
  step, epoch: 0, loss: 1 / step, lr: 1e-3, gradNorm: 1, clipCoef: 1, tokensPerSecond: 1, elapsedMs: step,
  memory: { weights: 0, lora: 0, grads: 0, optimizer: 0, activations: 0, workspace: 0 }, memoryTotal: 0, memoryPeak: 0,
});
const steps = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => point(a + i));

describe('truncating a run to its checkpoint', () => {
  it('keeps the first points, drops the rest, and appends after them', async () => {
    const kv = memoryKv();
    const runs = createRunStore(kv);
    const r = await runs.create({ name: 'r', config: parseRunConfig({}), model: { name: 'm', source: 'demo', params: 1 }, dataset: { name: 'd', examples: 1, validation: 0, tokensPerEpoch: 1 }, totalSteps: 2000 });
    const n = 2 * POINTS_PER_CHUNK + 10;
    await runs.appendPoints(r.id, steps(1, n));
    await runs.truncatePoints(r.id, POINTS_PER_CHUNK + 3);
    expect((await runs.points(r.id)).map((p) => p.step)).toEqual(steps(1, POINTS_PER_CHUNK + 3).map((p) => p.step));
    expect((await kv.keys()).filter((k) => k.startsWith('points:')).length).toBe(2);
    await runs.appendPoints(r.id, steps(POINTS_PER_CHUNK + 4, POINTS_PER_CHUNK + 6));
    const all = (await runs.points(r.id)).map((p) => p.step);
    expect(all).toEqual(steps(1, POINTS_PER_CHUNK + 6).map((p) => p.step));
    await runs.truncatePoints(r.id, POINTS_PER_CHUNK);
    expect((await runs.get(r.id))!.pointCount).toBe(POINTS_PER_CHUNK);
    expect((await kv.keys()).filter((k) => k.startsWith('points:')).length).toBe(1);
    await runs.truncatePoints(r.id, 0);
    expect(await runs.points(r.id)).toEqual([]);
  });
});
