import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/context';
import { flatGrid } from '../../src/engine/kernels/common';
import {
  prepareAccumulate, prepareAdd, prepareCopy, prepareFill, prepareScale, prepareSoftcap, prepareSoftcapBackward,
} from '../../src/engine/kernels/elementwise';
import { residualBackward, residualForward } from '../../src/reference/ops/residual';
import { softcapBackward, softcapForward } from '../../src/reference/ops/softcap';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();

/** The same engine with a tiny maxComputeWorkgroupsPerDimension, to exercise the 2D grids cheaply. */
function smallGridEngine(e: Engine, max: number): Engine {
  return { ...e, gpu: { ...e.gpu, limits: { ...e.gpu.limits, maxComputeWorkgroupsPerDimension: max } } };
}

describe.skipIf(!engine)('elementwise kernels vs the CPU reference', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  for (const n of [1, 3, 17, 257, 1000]) {
    it(`add, accumulate, scale, copy, fill on n = ${n}`, async () => {
      const a = rand(n, n + 1);
      const b = rand(n, n + 2);
      const [ga, gb, gout, gy] = await Promise.all([
        upload(e, a, 'a'), upload(e, b, 'b'), upload(e, new Float32Array(n), 'out'), upload(e, a, 'y'),
      ]);
      const want = new Float32Array(n);
      residualForward(want, a, b, n);

      const add = await prepareAdd(e, { out: gout, a: ga, b: gb, n });
      run(e, add);
      expect(mismatches(await read(e, gout, n), want, 0, 0)).toBeNull();

      // residual in place (y = a; y += b), then the residual backward into y: y += dout
      const acc = await prepareAccumulate(e, { y: gy, x: gb, n });
      run(e, acc);
      expect(mismatches(await read(e, gy, n), want, 0, 0)).toBeNull();
      const da = Float32Array.from(want);
      residualBackward(da, null, a, n);
      run(e, await prepareAccumulate(e, { y: gy, x: ga, n }));
      expect(mismatches(await read(e, gy, n), da, 0, 0)).toBeNull();

      // y += 0.5 b via setScalar, then y *= -2
      acc.setScalar(0.5);
      run(e, acc);
      const scaled = da.map((v, i) => -2 * Math.fround(v + Math.fround(0.5 * b[i])));
      run(e, await prepareScale(e, { y: gy, n, alpha: -2 }));
      expect(mismatches(await read(e, gy, n), scaled, 1e-6, 1e-6)).toBeNull();

      run(e, await prepareCopy(e, { out: gout, inp: ga, n }));
      expect(mismatches(await read(e, gout, n), a, 0, 0)).toBeNull();

      const fill = await prepareFill(e, { y: gout, n });
      run(e, fill);
      expect(mismatches(await read(e, gout, n), new Float32Array(n), 0, 0)).toBeNull();
      fill.setScalar(3.25);
      run(e, fill);
      expect(mismatches(await read(e, gout, n), new Float32Array(n).fill(3.25), 0, 0)).toBeNull();
    });
  }

  for (const [n, cap, scale] of [[1, 30, 4], [17, 2, 8], [257, 5, 1e4], [1000, 30, 60]]) {
    it(`softcap ${cap} and its backward on n = ${n}, values in [-${scale}, ${scale})`, async () => {
      const x = rand(n, n + cap, scale);
      const dout = rand(n, n + 1);
      const dx0 = rand(n, n + 2);
      const [gy, gdout, gdx] = await Promise.all([upload(e, x, 'y'), upload(e, dout, 'dout'), upload(e, dx0, 'dx')]);
      const want = new Float32Array(n);
      softcapForward(want, x, n, cap);
      run(e, await prepareSoftcap(e, { y: gy, n, cap }));
      const got = await read(e, gy, n);
      expect(mismatches(got, want, 1e-6 * cap, 1e-5)).toBeNull();
      const dwant = Float32Array.from(dx0);
      softcapBackward(dwant, dout, want, n, cap);
      run(e, await prepareSoftcapBackward(e, { dx: gdx, dout: gdout, out: gy, n, cap }));
      expect(mismatches(await read(e, gdx, n), dwant, 1e-6, 1e-5)).toBeNull();
    });
  }

  it('flat kernels run on a 2D grid when the workgroups exceed one dimension', async () => {
    const small = smallGridEngine(e, 4);
    const n = 257 * 10 + 5; // 11 workgroups of 256 -> a (4, 3) grid with one spare workgroup
    expect(flatGrid(small, Math.ceil(n / 256))).toEqual([4, 3, 1]);
    expect(flatGrid(e, 70000)).toEqual([35000, 2, 1]);
    expect(flatGrid(e, 1)).toEqual([1, 1, 1]);
    const a = rand(n, 1);
    const b = rand(n, 2);
    const [ga, gb, gout] = await Promise.all([upload(e, a, 'a'), upload(e, b, 'b'), upload(e, new Float32Array(n + 64), 'out')]);
    run(e, await prepareAdd(small, { out: gout, a: ga, b: gb, n }));
    const want = new Float32Array(n + 64);
    residualForward(want, a, b, n);
    expect(mismatches(await read(e, gout, n + 64), want, 0, 0)).toBeNull(); // nothing written past n
  });

  it('guards: aliasing, sizes, dimensions', async () => {
    const g = await upload(e, rand(8, 3), 'g');
    await expect(prepareAdd(e, { out: g, a: g, b: g, n: 8 })).rejects.toThrow(/also an input/);
    await expect(prepareAccumulate(e, { y: g, x: g, n: 8 })).rejects.toThrow(/also an input/);
    await expect(prepareFill(e, { y: g, n: 9 })).rejects.toThrow(/needs 36 bytes/);
    await expect(prepareScale(e, { y: g, n: 0, alpha: 1 })).rejects.toThrow(/n must be a positive integer/);
    await expect(prepareSoftcap(e, { y: g, n: 8, cap: 0 })).rejects.toThrow(/cap must be a positive/);
  });
});
