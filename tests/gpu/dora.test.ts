import { afterAll, describe, expect, it } from 'vitest';
import { prepareDoraColScale, prepareDoraMagGrad, prepareDoraWeightNorm } from '../../src/engine/kernels/dora';
import { uploadWeight, type ShardedWeight } from '../../src/engine/kernels/weights';
import { packWeight, unpackWeight, type WeightFormat } from '../../src/reference/quant/packed';
import { doraWeightNorm } from '../../src/reference/ops/dora';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();
const f64 = (a: ArrayLike<number>) => Float64Array.from(a);

interface Fmt { format: WeightFormat; doubleQuant?: boolean }
const FORMATS: Fmt[] = [
  { format: 'f32' }, { format: 'f16' }, { format: 'bf16' }, { format: 'int8' }, { format: 'nf4' }, { format: 'nf4', doubleQuant: true },
];
const name = (f: Fmt) => f.format + (f.doubleQuant ? '+dq' : '');

describe.skipIf(!engine)('DoRA kernels vs the CPU reference (src/reference/ops/dora.ts)', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  // Out = 130 in two row shards [0, 64) and [64, 130) (as a weight above one binding is kept); In = 67 (unaligned rows).
  for (const f of FORMATS) {
    it(`${name(f)}: norm = ||W + s B A||_row from the packed weight, in row shards`, async () => {
      const [Out, In, R, scale] = [130, 67, 3, 1.7];
      const W = rand(Out * In, 1, 0.5);
      const A = rand(R * In, 2, 0.3);
      const B = rand(Out * R, 3, 0.3);
      const cuts = [[0, 64], [64, Out - 64]] as const;
      const packed = cuts.map(([r0, rows]) => packWeight(W.subarray(r0 * In, (r0 + rows) * In), f.format, { doubleQuant: f.doubleQuant }));
      const weight: ShardedWeight = {
        format: f.format, rows: Out, cols: In,
        shards: await Promise.all(cuts.map(async ([r0, rows], i) => ({ r0, weight: await uploadWeight(e, packed[i], rows, In, `w${i}`) }))),
      };
      const [gA, gB, gn] = await Promise.all([upload(e, A, 'A'), upload(e, B, 'B'), upload(e, new Float32Array(Out), 'norm')]);
      const ops = await prepareDoraWeightNorm(e, { norm: gn, weight, A: gA, B: gB, R, scale, label: 'norm' });
      expect(ops).toHaveLength(2);
      run(e, ...ops);
      const Wd = new Float64Array(Out * In);
      cuts.forEach(([r0], i) => Wd.set(unpackWeight(packed[i]), r0 * In));
      const want = new Float64Array(Out);
      doraWeightNorm(want, Wd, f64(A), f64(B), scale, In, R, Out);
      expect(mismatches(await read(e, gn, Out), want, 1e-5, 1e-5)).toBeNull();
    });
  }

  it('col scale: out (+)= (m / norm + delta) inp; mag grad: dm += sum_n dy t / norm', async () => {
    const [N, Out] = [5, 70];
    const m = rand(Out, 4, 1);
    const norm = Float32Array.from(rand(Out, 5, 1), (x) => 1 + Math.abs(x));
    const inp = rand(N * Out, 6, 1);
    const out0 = rand(N * Out, 7, 1);
    const dm0 = rand(Out, 8, 1);
    const [gm, gn, gi, go, gdm] = await Promise.all([upload(e, m, 'm'), upload(e, norm, 'norm'), upload(e, inp, 'inp'), upload(e, out0, 'out'), upload(e, dm0, 'dm')]);
    run(e, await prepareDoraColScale(e, { out: go, inp: gi, m: gm, norm: gn, N, Out, delta: -1, accumulate: true, label: 'cs' }));
    const want = f64(out0);
    for (let i = 0; i < N * Out; i++) want[i] += (m[i % Out] / norm[i % Out] - 1) * inp[i];
    expect(mismatches(await read(e, go, N * Out), want, 1e-6, 1e-5)).toBeNull();
    run(e, await prepareDoraMagGrad(e, { dm: gdm, dy: gi, t: go, norm: gn, N, Out, label: 'dm' }));
    const wantDm = f64(dm0);
    for (let i = 0; i < N * Out; i++) wantDm[i % Out] += (inp[i] * want[i]) / norm[i % Out];
    expect(mismatches(await read(e, gdm, Out), wantDm, 1e-5, 1e-5)).toBeNull();
  });
});
