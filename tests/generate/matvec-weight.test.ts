import { afterAll, describe, expect, it } from 'vitest';
import { prepareMatvecWeight } from '../../src/engine/kernels/matvec-weight';
import { destroyWeight, uploadWeight } from '../../src/engine/kernels/weights';
import { packWeight, unpackWeight, type WeightFormat } from '../../src/reference/quant/packed';
import { mismatches, rand, read, run, testEngine, upload } from '../gpu/gpu';

const engine = await testEngine();

interface Fmt { format: WeightFormat; doubleQuant?: boolean }
const FORMATS: Fmt[] = [
  { format: 'f32' }, { format: 'f16' }, { format: 'bf16' }, { format: 'int8' }, { format: 'nf4' }, { format: 'nf4', doubleQuant: true },
];
const name = (f: Fmt) => f.format + (f.doubleQuant ? '+dq' : '');

describe.skipIf(!engine)('matvec with a base weight vs the CPU reference on the dequantized weight', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  // [N, K]: unaligned K (scalar path, NF4 blocks straddle rows), aligned K (vec4 path), N not a multiple of 8.
  for (const f of FORMATS) {
    for (const [N, K] of [[17, 257], [3, 68], [257, 8], [1, 1]] as const) {
      it(`${name(f)} y(${N}) = alpha W x + b (+ y), K=${K}`, async () => {
        const W = rand(N * K, N + K, 0.5);
        const x = rand(K, 3, 1);
        const b = rand(N, 4, 1);
        const y0 = rand(N, 5, 1);
        const packed = packWeight(W, f.format, { doubleQuant: f.doubleQuant });
        const Wd = unpackWeight(packed);
        const w = await uploadWeight(e, packed, N, K, `w.${name(f)}`);
        const [gx, gb, gy, gz] = await Promise.all([upload(e, x, 'x'), upload(e, b, 'b'), upload(e, y0, 'y'), upload(e, new Float32Array(N), 'z')]);
        const alpha = 0.75;
        const acc = await prepareMatvecWeight(e, { out: gy, x: gx, weight: w, bias: gb, alpha, accumulate: true });
        const plain = await prepareMatvecWeight(e, { out: gz, x: gx, weight: w });
        run(e, acc, plain);
        const wantAcc = new Float64Array(N);
        const wantPlain = new Float64Array(N);
        for (let n = 0; n < N; n++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += Wd[n * K + k] * x[k];
          wantPlain[n] = s;
          wantAcc[n] = alpha * s + b[n] + y0[n];
        }
        const tol = 2e-6 * Math.sqrt(K);
        expect(mismatches(await read(e, gy, N), wantAcc, tol, 1e-6)).toBeNull();
        expect(mismatches(await read(e, gz, N), wantPlain, tol, 1e-6)).toBeNull();
        acc.destroy();
        plain.destroy();
        destroyWeight(e, w);
      });
    }
  }

  for (const [f, N, K] of [[FORMATS[5], 17, 257], [FORMATS[0], 3, 68], [FORMATS[2], 70, 4]] as const) {
    it(`${name(f)} ${N}x${K}: every lane count (threads per row) gives the reference result`, async () => {
      const packed = packWeight(rand(N * K, 21, 0.5), f.format, { doubleQuant: f.doubleQuant });
      const Wd = unpackWeight(packed);
      const x = rand(K, 22, 1);
      const w = await uploadWeight(e, packed, N, K, 'w');
      const gx = await upload(e, x, 'x');
      const want = Array.from({ length: N }, (_, n) => x.reduce((s, xk, k) => s + Wd[n * K + k] * xk, 0));
      for (const lanes of [1, 2, 4, 8, 16, 32, 64]) {
        const gy = await upload(e, new Float32Array(N), 'y');
        const op = await prepareMatvecWeight(e, { out: gy, x: gx, weight: w, lanes });
        run(e, op);
        expect(mismatches(await read(e, gy, N), want, 2e-6 * Math.sqrt(K), 1e-6), `lanes ${lanes}`).toBeNull();
        op.destroy();
      }
      await expect(prepareMatvecWeight(e, { out: gx, x: gx, weight: w, lanes: 3 })).rejects.toThrow(/lanes must be one of/);
      destroyWeight(e, w);
    });
  }

  it('binds an f32 block inside a larger buffer (a LoRA matrix in the flat parameter buffer)', async () => {
    const [N, K, at] = [5, 12, 128]; // offset of 128 floats = 512 bytes
    const flat = rand(at + N * K + 3, 11, 1);
    const x = rand(K, 12, 1);
    const [gflat, gx, gy] = await Promise.all([upload(e, flat, 'flat'), upload(e, x, 'x'), upload(e, new Float32Array(N), 'y')]);
    const op = await prepareMatvecWeight(e, { out: gy, x: gx, weight: { format: 'f32', rows: N, cols: K, words: { buffer: gflat, offset: 4 * at } } });
    run(e, op);
    const want = Array.from({ length: N }, (_, n) => x.reduce((s, xk, k) => s + flat[at + n * K + k] * xk, 0));
    expect(mismatches(await read(e, gy, N), want, 1e-5, 1e-6)).toBeNull();
    op.destroy();
  });
});
