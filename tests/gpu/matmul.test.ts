import { afterAll, describe, expect, it } from 'vitest';
import { matmulWorkgroup, prepareMatmul } from '../../src/engine/kernels/matmul';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();

/** Naive C = alpha * op(A) op(B) + beta * C0 in float64. */
function refMatmul(a: Float32Array, b: Float32Array, M: number, N: number, K: number,
  tA: boolean, tB: boolean, alpha: number, c0: Float32Array | null): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (tA ? a[k * M + m] : a[m * K + k]) * (tB ? b[n * K + k] : b[k * N + n]);
      c[m * N + n] = alpha * s + (c0 ? c0[m * N + n] : 0);
    }
  }
  return c;
}

// [M, N, K, transA, transB]; dims 1, 3, 17, 257 and multiples of 4 (vec4 path) on purpose.
const CASES: [number, number, number, boolean, boolean][] = [
  [1, 1, 1, false, false],
  [3, 17, 257, false, false],
  [257, 3, 17, false, true],
  [17, 257, 3, true, false],
  [3, 17, 1, true, true],
  [65, 68, 36, false, false], // vec4 path
  [68, 64, 20, true, true],   // vec4 path, transposed
  [20, 36, 68, true, false],  // vec4 path
  [36, 20, 68, false, true],  // vec4 path
  [130, 132, 40, false, true], // several 64 x 64 tiles, transposed-B block staging, K tail
  [131, 70, 33, true, false],  // scalar path, several tiles, transposed-A staging
  // Narrow tiles for LoRA ranks (matmulWorkgroup): N or M of 8, 12, 24 with the other side > 128.
  [300, 8, 64, false, true],   // h = x A^T: 128 x 8 tiles
  [260, 8, 36, false, false],  // dh = dy B
  [200, 12, 48, true, false],  // dB = dy^T h: 128 x 16 tiles
  [8, 300, 64, true, false],   // dA = dh^T x: 8 x 128 tiles
  [24, 140, 20, true, true],   // 32 x 128 tiles
  [7, 9, 130, false, false],   // both narrow (scalar path)
];

describe.skipIf(!engine)('f32 matmul vs naive CPU', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  for (const [M, N, K, tA, tB] of CASES) {
    it(`C(${M}x${N}) = ${tA ? 'A^T' : 'A'} ${tB ? 'B^T' : 'B'}, K=${K}`, async () => {
      const a = rand(M * K, M + 7 * K, 1);
      const b = rand(K * N, N + 3 * K, 1);
      const c0 = rand(M * N, 5, 1);
      const [ga, gb, gc] = await Promise.all([upload(e, a, 'a'), upload(e, b, 'b'), upload(e, c0, 'c')]);
      // overwrite with alpha, then accumulate: c = 0.5 AB, then c += AB  ->  1.5 AB
      const op1 = await prepareMatmul(e, { out: gc, a: ga, b: gb, M, N, K, transA: tA, transB: tB, alpha: 0.5 });
      const op2 = await prepareMatmul(e, { out: gc, a: ga, b: gb, M, N, K, transA: tA, transB: tB, accumulate: true });
      run(e, op1);
      const once = await read(e, gc, M * N);
      const want1 = refMatmul(a, b, M, N, K, tA, tB, 0.5, null);
      const tol = 1e-5 * Math.sqrt(K);
      expect(mismatches(once, want1, tol, 1e-5)).toBeNull();
      run(e, op2);
      const twice = await read(e, gc, M * N);
      expect(mismatches(twice, refMatmul(a, b, M, N, K, tA, tB, 1.5, null), 2 * tol, 1e-5)).toBeNull();
      op1.destroy();
      op2.destroy();
    });
  }

  // a as a block of columns [c0, c0 + width) of a wider (rows, lda) matrix (a row shard's columns of dy);
  // vec4 path (transposed and not) and scalar path (lda not a multiple of 4).
  for (const [M, N, K, tA, lda, c0] of [[64, 36, 24, true, 192, 64], [17, 9, 13, true, 90, 64], [24, 20, 12, false, 100, 64]] as const) {
    it(`lda: C(${M}x${N}) = ${tA ? 'A^T' : 'A'} B with a's rows ${lda} apart, from column ${c0}`, async () => {
      const [rows, width] = tA ? [K, M] : [M, K];
      const wide = rand(rows * lda, 11, 1);
      const block = new Float32Array(rows * width); // the same block, packed
      for (let r = 0; r < rows; r++) block.set(wide.subarray(r * lda + c0, r * lda + c0 + width), r * width);
      const b = rand(K * N, 12, 1);
      const [ga, gb, gc] = await Promise.all([upload(e, wide, 'wide a'), upload(e, b, 'b'), upload(e, new Float32Array(M * N), 'c')]);
      const op = await prepareMatmul(e, { out: gc, a: { buffer: ga, offset: 4 * c0 }, b: gb, M, N, K, transA: tA, lda, accumulate: true });
      run(e, op);
      expect(mismatches(await read(e, gc, M * N), refMatmul(block, b, M, N, K, tA, false, 1, null), 1e-5 * Math.sqrt(K), 1e-5)).toBeNull();
      op.destroy();
      await expect(prepareMatmul(e, { out: gc, a: ga, b: gb, M, N, K, transA: tA, lda: width - 1 })).rejects.toThrow(/lda .* at least a's row length/);
    });
  }

  it('picks 64 x 64 tiles for square-ish products and narrow tiles for LoRA ranks', () => {
    expect(matmulWorkgroup(512, 256)).toEqual({ WX: 8, WY: 8 });
    expect(matmulWorkgroup(512, 8)).toEqual({ WX: 1, WY: 16 });
    expect(matmulWorkgroup(8, 768)).toEqual({ WX: 16, WY: 1 });
    expect(matmulWorkgroup(2048, 16)).toEqual({ WX: 2, WY: 16 });
    expect(matmulWorkgroup(32, 256)).toEqual({ WX: 16, WY: 4 });
    expect(matmulWorkgroup(7, 9)).toEqual({ WX: 2, WY: 1 });
  });

  it('accumulate adds onto existing values; guards reject bad shapes', async () => {
    const [M, N, K] = [3, 5, 7];
    const a = rand(M * K, 1);
    const b = rand(K * N, 2);
    const c0 = rand(M * N, 3);
    const [ga, gb, gc] = await Promise.all([upload(e, a, 'a'), upload(e, b, 'b'), upload(e, c0, 'c')]);
    const op = await prepareMatmul(e, { out: gc, a: ga, b: gb, M, N, K, accumulate: true, alpha: 2 });
    run(e, op);
    expect(mismatches(await read(e, gc, M * N), refMatmul(a, b, M, N, K, false, false, 2, c0), 1e-5, 1e-5)).toBeNull();
    await expect(prepareMatmul(e, { out: gc, a: ga, b: gb, M: 4, N, K })).rejects.toThrow(/a \(M, K\) = \(4, 7\) needs 112 bytes/);
    await expect(prepareMatmul(e, { out: ga, a: ga, b: gb, M, N: 1, K })).rejects.toThrow(/output buffer .* is also an input/);
    await expect(prepareMatmul(e, { out: gc, a: ga, b: gb, M: 0, N, K })).rejects.toThrow(/M must be a positive integer/);
  });

  it('refuses a dispatch beyond 65535 workgroups per dimension', async () => {
    const M = 65536 * 128; // one column: 128-row tiles (matmulWorkgroup), 32 MiB per buffer, 65536 workgroups along y
    const usage = GPUBufferUsage.STORAGE;
    const tall = await e.pool.alloc({ size: 4 * M, usage, category: 'activations', label: 'tall a' });
    const out = await e.pool.alloc({ size: 4 * M, usage, category: 'activations', label: 'tall out' });
    const one = await upload(e, Float32Array.of(1), 'one');
    await expect(prepareMatmul(e, { out, a: tall, b: one, M, N: 1, K: 1 })).rejects.toThrow(/65536 workgroups along y exceed 65535/);
    e.pool.destroy(tall);
    e.pool.destroy(out);
  });
});
