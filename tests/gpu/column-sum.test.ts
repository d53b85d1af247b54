/**
 * The column-sum kernel (full finetuning's bias gradient) against the CPU reference: odd shapes, a
 * partial workgroup of columns, more rows than row slices, accumulate and overwrite, a bound view,
 * and the same bits on every run (a fixed order of additions).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { prepareColumnSum } from '../../src/engine/kernels/column-sum';
import { columnSum } from '../../src/reference/ops/column-sum';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();

// [N, C]: one element, fewer rows than the 16 row slices, a partial column block, many rows.
const CASES: [number, number][] = [[1, 1], [3, 17], [40, 16], [257, 33], [1000, 5]];

describe.skipIf(!engine)('column sum vs the CPU reference', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  for (const [N, C] of CASES) {
    it(`(${N}, ${C}): accumulates onto out, then overwrites it`, async () => {
      const inp = rand(N * C, N + 3 * C, 1);
      const out0 = rand(C, 7, 1);
      const [gin, gout] = await Promise.all([upload(e, inp, 'inp'), upload(e, out0, 'out')]);
      const want = Float64Array.from(out0);
      columnSum(want, inp, N, C);
      run(e, await prepareColumnSum(e, { out: gout, inp: gin, N, C }));
      const tol = 1e-6 * Math.sqrt(N);
      expect(mismatches(await read(e, gout, C), want, tol, 1e-5)).toBeNull();
      const fresh = new Float64Array(C);
      columnSum(fresh, inp, N, C);
      run(e, await prepareColumnSum(e, { out: gout, inp: gin, N, C, accumulate: false }));
      expect(mismatches(await read(e, gout, C), fresh, tol, 1e-5)).toBeNull();
    });
  }

  it('reads a view (rows from a byte offset), gives the same bits on every run, and checks sizes', async () => {
    const [N, C] = [300, 64]; // rows 64.. of a (364, 64) buffer: offset 64 * 64 * 4 bytes
    const inp = rand((N + 64) * C, 3, 1);
    const [gin, gout] = await Promise.all([upload(e, inp, 'inp'), upload(e, new Float32Array(C), 'out')]);
    const op = await prepareColumnSum(e, { out: gout, inp: { buffer: gin, offset: 4 * 64 * C }, N, C, accumulate: false });
    run(e, op);
    const first = await read(e, gout, C);
    const want = new Float64Array(C);
    columnSum(want, inp.subarray(64 * C), N, C);
    expect(mismatches(first, want, 1e-5, 1e-5)).toBeNull();
    run(e, op);
    expect(await read(e, gout, C)).toEqual(first);
    await expect(prepareColumnSum(e, { out: gout, inp: gin, N: N + 65, C })).rejects.toThrow(/inp \(N, C\) = \(365, 64\) needs/);
    await expect(prepareColumnSum(e, { out: gin, inp: gin, N: 1, C })).rejects.toThrow(/output buffer .* is also an input/);
  });
});
