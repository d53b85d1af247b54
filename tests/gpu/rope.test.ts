import { afterAll, describe, expect, it } from 'vitest';
import { prepareRopeBackward, prepareRopeForward, uploadRopeTables } from '../../src/engine/kernels/rope';
import { ropeBackward, ropeForward, ropeTables } from '../../src/reference/ops/rope';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();
const THETA = 10000;

/** Reference tables for positions off .. off+T-1 (rows of the full table). */
function tablesAt(T: number, D: number, off: number) {
  const { cos, sin } = ropeTables(Float32Array, off + T, D, THETA);
  const h = D / 2;
  return { cos: cos.subarray(off * h), sin: sin.subarray(off * h) };
}

// [B, T, H, D, posOffset]: q-like and k-like head counts, T = 257, D = 2 and odd D/2.
const CASES: [number, number, number, number, number][] = [
  [1, 1, 1, 2, 0], [2, 3, 3, 6, 0], [1, 17, 4, 8, 5], [1, 257, 1, 4, 0], [3, 5, 2, 34, 1],
];

describe.skipIf(!engine)('rope kernels vs the CPU reference', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  for (const [B, T, H, D, off] of CASES) {
    it(`forward and backward, in place and out of place: B=${B} T=${T} H=${H} D=${D} offset=${off}`, async () => {
      const n = B * T * H * D;
      const x = rand(n, n + D);
      const d0 = rand(n, n + 1);
      const tables = await uploadRopeTables(e, off + T + 2, D, THETA);
      const { cos, sin } = tablesAt(T, D, off);
      const [gx, gin, gout] = await Promise.all([upload(e, x, 'x'), upload(e, x, 'inp'), upload(e, d0, 'out')]);
      const fwd = new Float32Array(n);
      ropeForward(fwd, x, cos, sin, B, T, H, D);
      const bwdAcc = Float32Array.from(d0);
      ropeBackward(bwdAcc, x, cos, sin, B, T, H, D);
      const bwd = new Float32Array(n);
      ropeBackward(bwd, x, cos, sin, B, T, H, D);
      const args = { tables, B, T, H, D, posOffset: off };

      // out of place: forward overwrites, backward accumulates (defaults)
      run(e, await prepareRopeForward(e, { ...args, out: gout, inp: gin }));
      expect(mismatches(await read(e, gout, n), fwd, 1e-6, 1e-5)).toBeNull();
      const gacc = await upload(e, d0, 'dinp');
      run(e, await prepareRopeBackward(e, { ...args, out: gacc, inp: gin }));
      expect(mismatches(await read(e, gacc, n), bwdAcc, 1e-6, 1e-5)).toBeNull();
      run(e, await prepareRopeBackward(e, { ...args, out: gacc, inp: gin, accumulate: false }));
      expect(mismatches(await read(e, gacc, n), bwd, 1e-6, 1e-5)).toBeNull();

      // in place: forward then backward restores x
      const fwdOp = await prepareRopeForward(e, { ...args, out: gx });
      run(e, fwdOp);
      expect(mismatches(await read(e, gx, n), fwd, 1e-6, 1e-5)).toBeNull();
      run(e, await prepareRopeBackward(e, { ...args, out: gx }));
      expect(mismatches(await read(e, gx, n), x, 1e-5, 1e-5)).toBeNull();
    });
  }

  it('setPosOffset moves the positions (generation with a KV cache)', async () => {
    const [B, T, H, D] = [1, 1, 2, 8];
    const n = B * T * H * D;
    const x = rand(n, 3);
    const tables = await uploadRopeTables(e, 40, D, THETA);
    const [gin, gout] = await Promise.all([upload(e, x, 'inp'), upload(e, new Float32Array(n), 'out')]);
    const op = await prepareRopeForward(e, { out: gout, inp: gin, tables, B, T, H, D });
    for (const pos of [0, 7, 39]) {
      op.setPosOffset(pos);
      run(e, op);
      const { cos, sin } = tablesAt(T, D, pos);
      const want = new Float32Array(n);
      ropeForward(want, x, cos, sin, B, T, H, D);
      expect(mismatches(await read(e, gout, n), want, 1e-6, 1e-5)).toBeNull();
    }
    expect(() => op.setPosOffset(40)).toThrow(/outside the tables/);
  });

  it('guards', async () => {
    const tables = await uploadRopeTables(e, 4, 8, THETA);
    const g = await upload(e, rand(64, 1), 'g');
    await expect(prepareRopeForward(e, { out: g, tables, B: 1, T: 4, H: 2, D: 6 })).rejects.toThrow(/tables are for D = 8/);
    await expect(prepareRopeForward(e, { out: g, tables, B: 1, T: 4, H: 2, D: 7 })).rejects.toThrow(/must be even/);
    await expect(prepareRopeForward(e, { out: g, tables, B: 1, T: 4, H: 2, D: 8, posOffset: 1 })).rejects.toThrow(/outside the tables/);
    await expect(prepareRopeBackward(e, { out: g, tables, B: 1, T: 4, H: 2, D: 8, accumulate: true })).rejects.toThrow(/cannot accumulate/);
    await expect(prepareRopeForward(e, { out: g, inp: g, tables, B: 1, T: 4, H: 2, D: 8 })).rejects.toThrow(/also an input/);
  });
});
