import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/context';
import {
  prepareRmsnormBackward, prepareRmsnormBackwardWeight, prepareRmsnormForward, rmsnormRowWorkgroup, rmsnormShader,
} from '../../src/engine/kernels/rmsnorm';
import { rmsnormBackward, rmsnormForward } from '../../src/reference/ops/rmsnorm';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();
// The same kernels on a device without the `subgroups` feature: the workgroup-tree fallback.
const treeEngine = await testEngine({ disableFeatures: ['subgroups'] });
const EPS = 1e-5;

// [N, C]: C = 1 and C = 8192 (32 elements per thread), N = 257 rows.
const CASES: [number, number][] = [[1, 1], [3, 17], [17, 257], [257, 3], [2, 8192]];
// Gemma's (1 + w) gain on odd shapes, and per-head q/k norm: N * H rows of head_dim (the heads of a
// token are contiguous), e.g. 5 tokens x 3 heads, 7 tokens x 2 heads, 3 tokens x 6 heads.
const PLUS_ONE_CASES: [number, number][] = [[1, 1], [3, 17], [17, 257]];
const HEAD_NORM_CASES: [number, number][] = [[5 * 3, 16], [7 * 2, 64], [3 * 6, 128], [2 * 5, 256]];

async function check(e: Engine, N: number, C: number, seed: number, plusOne = false) {
  const inp = rand(N * C, seed, 2);
  const weight = rand(C, seed + 1, 1.5);
  const dout = rand(N * C, seed + 2);
  const dinp0 = rand(N * C, seed + 3);
  const dw0 = rand(C, seed + 4);
  const [gin, gw, gout, grstd, gdout, gdinp, gdw] = await Promise.all([
    upload(e, inp, 'inp'), upload(e, weight, 'weight'), upload(e, new Float32Array(N * C), 'out'),
    upload(e, new Float32Array(N), 'rstd'), upload(e, dout, 'dout'), upload(e, dinp0, 'dinp'), upload(e, dw0, 'dweight'),
  ]);
  const out = new Float32Array(N * C);
  const rstd = new Float32Array(N);
  rmsnormForward(out, rstd, inp, weight, N, C, EPS, plusOne);
  run(e, await prepareRmsnormForward(e, { out: gout, rstd: grstd, inp: gin, weight: gw, N, C, eps: EPS, plusOne }));
  expect(mismatches(await read(e, grstd, N), rstd, 1e-6, 1e-5)).toBeNull();
  expect(mismatches(await read(e, gout, N * C), out, 1e-5, 1e-5)).toBeNull();

  // backward accumulates into dinp (default) and dweight
  const dinp = Float32Array.from(dinp0);
  const dw = Float32Array.from(dw0);
  rmsnormBackward(dinp, dw, dout, inp, weight, rstd, N, C, plusOne);
  run(e,
    await prepareRmsnormBackward(e, { dinp: gdinp, dout: gdout, inp: gin, weight: gw, rstd: grstd, N, C, plusOne }),
    await prepareRmsnormBackwardWeight(e, { dweight: gdw, dout: gdout, inp: gin, rstd: grstd, N, C }));
  expect(mismatches(await read(e, gdinp, N * C), dinp, 1e-5, 1e-4)).toBeNull();
  expect(mismatches(await read(e, gdw, C), dw, 1e-5 * Math.sqrt(N), 1e-4)).toBeNull();

  // overwrite
  const fresh = new Float32Array(N * C);
  const dwFresh = new Float32Array(C);
  rmsnormBackward(fresh, dwFresh, dout, inp, weight, rstd, N, C, plusOne);
  run(e,
    await prepareRmsnormBackward(e, { dinp: gdinp, dout: gdout, inp: gin, weight: gw, rstd: grstd, N, C, accumulate: false, plusOne }),
    await prepareRmsnormBackwardWeight(e, { dweight: gdw, dout: gdout, inp: gin, rstd: grstd, N, C, accumulate: false }));
  expect(mismatches(await read(e, gdinp, N * C), fresh, 1e-5, 1e-4)).toBeNull();
  expect(mismatches(await read(e, gdw, C), dwFresh, 1e-5 * Math.sqrt(N), 1e-4)).toBeNull();
}

describe.skipIf(!engine)('rmsnorm kernels vs the CPU reference', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  for (const [N, C] of CASES) {
    it(`forward, backward, weight gradient: N=${N} C=${C} (${e.gpu.features.subgroups ? 'subgroup' : 'tree'} reduction)`, () => check(e, N, C, N * 31 + C));
  }

  it('reduces by subgroups where the adapter has them (else says so and uses the tree)', async () => {
    if (!e.gpu.features.subgroups) {
      console.warn('[rmsnorm] this adapter has no `subgroups` feature: only the workgroup-tree reduction runs here');
      expect(rmsnormShader(e)).not.toMatch(/subgroupAdd\(/);
      return;
    }
    expect(rmsnormShader(e)).toMatch(/^enable subgroups;/);
    // Same input, same bits, run after run (the slot sums are added in a fixed order).
    const [N, C] = [9, 300];
    const gin = await upload(e, rand(N * C, 3, 2), 'inp');
    const gw = await upload(e, rand(C, 4), 'w');
    const outs = [];
    for (let i = 0; i < 2; i++) {
      const gout = await upload(e, new Float32Array(N * C), 'out');
      const grstd = await upload(e, new Float32Array(N), 'rstd');
      run(e, await prepareRmsnormForward(e, { out: gout, rstd: grstd, inp: gin, weight: gw, N, C, eps: EPS }));
      outs.push(await read(e, grstd, N));
    }
    expect(Array.from(outs[1])).toEqual(Array.from(outs[0]));
  });

  // The same device described as a GPU: the row kernels take the GPU's workgroup sizes (32 to 256).
  const asGpu: Engine = { ...e, gpu: { ...e.gpu, adapterInfo: { vendor: 'test', architecture: 'gpu', device: '', description: 'a GPU' } } };
  it('sizes row workgroups for the adapter: a few invocations on a CPU adapter, 32-256 on a GPU', () => {
    const cpu: Engine = { ...e, gpu: { ...e.gpu, adapterInfo: { vendor: 'google', architecture: 'swiftshader', device: '', description: '' } } };
    expect([1, 3, 8, 300, 8192].map((C) => rmsnormRowWorkgroup(cpu, C))).toEqual([1, 4, 8, 8, 8]);
    expect([1, 3, 8, 300, 8192].map((C) => rmsnormRowWorkgroup(asGpu, C))).toEqual([32, 32, 32, 256, 256]);
  });
  for (const [N, C] of CASES) {
    it(`GPU-sized row workgroups: N=${N} C=${C}`, () => check(asGpu, N, C, N * 7 + C));
  }
  for (const [N, C] of [...PLUS_ONE_CASES, ...HEAD_NORM_CASES]) {
    it(`(1 + w) gain: N=${N} C=${C}, CPU- and GPU-sized row workgroups`, async () => {
      await check(e, N, C, N * 13 + C, true);
      await check(asGpu, N, C, N * 11 + C, true);
    });
  }
  for (const [N, C] of HEAD_NORM_CASES) {
    it(`per-head norm rows (w gain): N*H=${N} C=${C}, CPU- and GPU-sized row workgroups`, async () => {
      await check(e, N, C, N * 3 + C);
      await check(asGpu, N, C, N * 9 + C);
    });
  }

  it('rows on a 2D grid (small maxComputeWorkgroupsPerDimension)', async () => {
    const small: Engine = { ...e, gpu: { ...e.gpu, limits: { ...e.gpu.limits, maxComputeWorkgroupsPerDimension: 4 } } };
    await check(small, 13, 17, 5); // 13 rows -> a (4, 4) grid, 3 idle workgroups
  });

  it('guards', async () => {
    const g = await upload(e, rand(12, 1), 'g');
    const r = await upload(e, rand(4, 1), 'r');
    await expect(prepareRmsnormForward(e, { out: g, rstd: r, inp: g, weight: r, N: 4, C: 3, eps: EPS })).rejects.toThrow(/also an input/);
    await expect(prepareRmsnormForward(e, { out: g, rstd: r, inp: g, weight: r, N: 4, C: 3, eps: -1 })).rejects.toThrow(/eps/);
  });
});

describe.skipIf(!treeEngine)('rmsnorm kernels without subgroups (the fallback)', () => {
  const e = treeEngine!;
  afterAll(() => e.pool.destroyAll());

  it('the device really lacks the feature, and the module has no subgroup operation', () => {
    expect(e.gpu.features.subgroups).toBe(false);
    expect(rmsnormShader(e)).not.toMatch(/enable subgroups|subgroupAdd\(/);
  });
  const asGpu: Engine = { ...e, gpu: { ...e.gpu, adapterInfo: { vendor: 'test', architecture: 'gpu', device: '', description: 'a GPU' } } };
  for (const [N, C] of CASES) {
    it(`forward, backward, weight gradient: N=${N} C=${C} (tree reduction)`, () => check(e, N, C, N * 17 + C));
    it(`... with GPU-sized row workgroups: N=${N} C=${C}`, () => check(asGpu, N, C, N * 5 + C));
  }
  for (const [N, C] of [...PLUS_ONE_CASES, ...HEAD_NORM_CASES]) {
    it(`(1 + w) gain: N=${N} C=${C} (tree reduction), CPU- and GPU-sized row workgroups`, async () => {
      await check(e, N, C, N * 19 + C, true);
      await check(asGpu, N, C, N * 23 + C, true);
    });
  }
  for (const [N, C] of HEAD_NORM_CASES) {
    it(`per-head norm rows (w gain): N*H=${N} C=${C} (tree reduction), CPU- and GPU-sized row workgroups`, async () => {
      await check(e, N, C, N * 29 + C);
      await check(asGpu, N, C, N * 31 + C);
    });
  }
});
