import { afterAll, describe, expect, it } from 'vitest';
import { prepareMatmul } from '../../src/engine/kernels/matmul';
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
    const M = 65536 * 64; // one column: 16 MiB per buffer, 65536 workgroups along y
    const usage = GPUBufferUsage.STORAGE;
    const tall = await e.pool.alloc({ size: 4 * M, usage, category: 'activations', label: 'tall a' });
    const out = await e.pool.alloc({ size: 4 * M, usage, category: 'activations', label: 'tall out' });
    const one = await upload(e, Float32Array.of(1), 'one');
    await expect(prepareMatmul(e, { out, a: tall, b: one, M, N: 1, K: 1 })).rejects.toThrow(/65536 workgroups along y exceed 65535/);
    e.pool.destroy(tall);
    e.pool.destroy(out);
  });
});
