import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/context';
import { prepareMatmul } from '../../src/engine/kernels/matmul';
import { prepareRmsnormForward } from '../../src/engine/kernels/rmsnorm';
import { profileOps, sharesByKernel } from '../../src/engine/profiler';
import { rand, testEngine, testGpu, upload } from './gpu';

const engine = await testEngine();
const noTimestamps = await testGpu({ disableFeatures: ['timestamp-query'] });

describe.skipIf(!engine)('timestamp-query profiler', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  it.skipIf(!e?.gpu.features.timestamps)('times every op and groups them by shader', async () => {
    const [M, N, K] = [128, 96, 64];
    const [a, b, c, w, rstd] = await Promise.all([
      upload(e, rand(M * K, 1), 'a'), upload(e, rand(K * N, 2), 'b'), upload(e, new Float32Array(M * N), 'c'),
      upload(e, rand(N, 3), 'w'), upload(e, new Float32Array(M), 'rstd'),
    ]);
    const out = await upload(e, new Float32Array(M * N), 'out');
    const ops = [
      await prepareMatmul(e, { out: c, a, b, M, N, K, label: 'mm 1' }),
      await prepareMatmul(e, { out: c, a, b, M, N, K, accumulate: true, label: 'mm 2' }),
      await prepareRmsnormForward(e, { out, rstd, inp: c, weight: w, N: M, C: N, eps: 1e-5, label: 'norm' }),
    ];
    const t = await profileOps(e, ops);
    expect(t.map((x) => [x.label, x.kernel])).toEqual([['mm 1', 'matmul'], ['mm 2', 'matmul'], ['norm', 'rmsnorm']]);
    expect(t.every((x) => Number.isFinite(x.ms) && x.ms >= 0)).toBe(true);
    expect(t.some((x) => x.ms > 0)).toBe(true);
    const shares = sharesByKernel(t);
    expect(shares.map((s) => s.kernel).sort()).toEqual(['matmul', 'rmsnorm']);
    expect(shares.find((s) => s.kernel === 'matmul')!.count).toBe(2);
    expect(shares.reduce((s, x) => s + x.share, 0)).toBeCloseTo(1, 6);
  });

  it('says what is missing on a device without timestamp-query', async () => {
    if (!noTimestamps) return;
    const e2 = createEngine(noTimestamps);
    await expect(profileOps(e2, [])).rejects.toThrow(/timestamp-query/);
  });
});

describe('sharesByKernel', () => {
  it('sums time per family, largest first, with shares of the total', () => {
    const s = sharesByKernel([
      { label: 'a', kernel: 'x', ms: 1 }, { label: 'b', kernel: 'y', ms: 6 }, { label: 'c', kernel: 'x', ms: 3 },
    ]);
    expect(s).toEqual([
      { kernel: 'y', ms: 6, share: 0.6, count: 1 },
      { kernel: 'x', ms: 4, share: 0.4, count: 2 },
    ]);
    expect(sharesByKernel([])).toEqual([]);
  });
});
