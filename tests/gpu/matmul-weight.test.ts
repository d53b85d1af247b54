import { afterAll, describe, expect, it } from 'vitest';
import { prepareLinearBackwardInput, prepareLinearForward } from '../../src/engine/kernels/matmul-weight';
import { destroyWeight, uploadWeight, weightBufferBytes } from '../../src/engine/kernels/weights';
import { alignedSize } from '../../src/engine/pool';
import { packWeight, unpackWeight, type WeightFormat } from '../../src/reference/quant/packed';
import { linearBackward, linearForward } from '../../src/reference/ops/linear';
import { loadNf4Golden } from '../quant/golden-nf4';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();
const f64 = (a: Float32Array) => Float64Array.from(a);

interface Fmt { format: WeightFormat; doubleQuant?: boolean }
const FORMATS: Fmt[] = [
  { format: 'f32' }, { format: 'f16' }, { format: 'bf16' }, { format: 'int8' }, { format: 'nf4' },
  { format: 'nf4', doubleQuant: true },
];
const name = (f: Fmt) => f.format + (f.doubleQuant ? '+dq' : '');

describe.skipIf(!engine)('base-weight linear vs the CPU reference on the dequantized weight', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  // [M, N, K]: K=257 (unaligned rows, NF4 blocks straddle rows) with bias; K=64 (aligned, vec4 x).
  for (const f of FORMATS) {
    // [70, 130, 36]: several 64 x 64 tiles of C, W rows in 4 x 4 blocks across tile edges, K tail.
    for (const [M, N, K, bias] of [[3, 17, 257, true], [17, 5, 64, false], [70, 130, 36, true]] as const) {
      it(`${name(f)} forward Y(${M}x${N}) = X W^T${bias ? ' + b' : ''}, K=${K}`, async () => {
        const W = rand(N * K, N * K, 0.5);
        const x = rand(M * K, M, 1);
        const b = rand(N, 99, 1);
        const packed = packWeight(W, f.format, { doubleQuant: f.doubleQuant });
        const w = await uploadWeight(e, packed, N, K, `w.${name(f)}`);
        const [gx, gb, gy] = await Promise.all([upload(e, x, 'x'), upload(e, b, 'b'), upload(e, new Float32Array(M * N), 'y')]);
        const op = await prepareLinearForward(e, { out: gy, x: gx, weight: w, bias: bias ? gb : undefined, M });
        run(e, op);
        const want = new Float64Array(M * N);
        linearForward(want, f64(x), f64(unpackWeight(packed)), bias ? f64(b) : null, M, K, N);
        expect(mismatches(await read(e, gy, M * N), want, 2e-5 * Math.sqrt(K), 1e-5)).toBeNull();
        op.destroy();
        destroyWeight(e, w);
      });
    }
    // dX (M, K) += dY (M, N) W: K=68 aligned W rows with N=3 (scalar dY loads); K=17 unaligned with N=4 (vec4 dY).
    for (const [M, N, K] of [[17, 3, 68], [5, 4, 17], [130, 36, 70]] as const) {
      it(`${name(f)} backward-input dX(${M}x${K}) += dY W, N=${N}`, async () => {
        const W = rand(N * K, 7 + K, 0.5);
        const dy = rand(M * N, 8, 1);
        const dx0 = rand(M * K, 9, 1);
        const packed = packWeight(W, f.format, { doubleQuant: f.doubleQuant });
        const w = await uploadWeight(e, packed, N, K, `w.${name(f)}`);
        const [gdy, gdx] = await Promise.all([upload(e, dy, 'dy'), upload(e, dx0, 'dx')]);
        const op = await prepareLinearBackwardInput(e, { dx: gdx, dy: gdy, weight: w, M, accumulate: true });
        run(e, op);
        const want = f64(dx0);
        linearBackward(want, null, null, f64(dy), new Float64Array(M * K), f64(unpackWeight(packed)), M, K, N);
        expect(mismatches(await read(e, gdx, M * K), want, 2e-5 * Math.sqrt(N), 1e-5)).toBeNull();
        op.destroy();
        destroyWeight(e, w);
      });
    }
  }

  it('NF4 dequantization on the GPU is bit-exact against the golden dequant (forward and backward paths)', async () => {
    for (const g of await loadNf4Golden()) {
      const [R, C] = g.shape; // W (R, C)
      const w = await uploadWeight(e, packWeight(g.x, 'nf4'), R, C, `golden.${g.name}`);
      const eye = (n: number) => { const a = new Float32Array(n * n); for (let i = 0; i < n; i++) a[i * n + i] = 1; return a; };
      // forward with X = I (C, C): Y (C, R) = W^T exactly (each output is 1 * w plus zeros)
      const [gi, gy] = await Promise.all([upload(e, eye(C), 'eye'), upload(e, new Float32Array(C * R), 'y')]);
      const fwd = await prepareLinearForward(e, { out: gy, x: gi, weight: w, M: C });
      // backward-input with dY = I (R, R): dX (R, C) = W exactly
      const [gi2, gdx] = await Promise.all([upload(e, eye(R), 'eye'), upload(e, new Float32Array(R * C), 'dx')]);
      const bwd = await prepareLinearBackwardInput(e, { dx: gdx, dy: gi2, weight: w, M: R });
      run(e, fwd, bwd);
      const yt = await read(e, gy, C * R);
      const dx = await read(e, gdx, R * C);
      for (let r = 0; r < R; r++) {
        for (let c = 0; c < C; c++) {
          const want = g.dequant[r * C + c];
          if (yt[c * R + r] !== want || dx[r * C + c] !== want) {
            throw new Error(`${g.name}[${r},${c}]: forward ${yt[c * R + r]}, backward ${dx[r * C + c]}, golden ${want}`);
          }
        }
      }
    }
  });

  it('weight buffers on the ledger are exactly weightBufferBytes after 4-byte rounding', async () => {
    for (const f of FORMATS) {
      const before = e.pool.ledgerSnapshot().current.weights;
      const [N, K] = [7, 45];
      const w = await uploadWeight(e, packWeight(rand(N * K, 1), f.format, { doubleQuant: f.doubleQuant }), N, K, 'sized');
      const want = weightBufferBytes(f.format, N, K, { doubleQuant: f.doubleQuant }).reduce((s, b) => s + alignedSize(b), 0);
      expect(e.pool.ledgerSnapshot().current.weights - before, name(f)).toBe(want);
      destroyWeight(e, w);
      expect(e.pool.ledgerSnapshot().current.weights).toBe(before);
    }
  });
});
