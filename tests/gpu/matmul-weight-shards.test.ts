/**
 * A base weight in row shards (each shard its own packed weight, as base-weights.ts stores a linear
 * too large for one binding): the forward writes each shard's columns of Y, the backward-input adds
 * dY's columns times each shard, the matvec writes each shard's rows of y; all equal the CPU
 * reference on the weight the shards dequantize to. N a multiple of 4 or not (dY's row stride
 * allows vec4 loads or forces scalar ones), and a last shard of 2 or 4 rows.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { prepareShardedLinearBackwardInput, prepareShardedLinearForward } from '../../src/engine/kernels/matmul-weight';
import { prepareShardedMatvecWeight } from '../../src/engine/kernels/matvec-weight';
import { rowShardRanges, uploadWeight, weightBufferBytes, type ShardedWeight } from '../../src/engine/kernels/weights';
import { packWeight, unpackWeight, type WeightFormat } from '../../src/reference/quant/packed';
import { linearBackward, linearForward } from '../../src/reference/ops/linear';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();
const f64 = (a: Float32Array) => Float64Array.from(a);

/** W (N, K) cut at rows 64 and 128, each shard packed on its own; and what the shards dequantize to. */
async function sharded(format: WeightFormat, W: Float32Array, N: number, K: number): Promise<{ w: ShardedWeight; dequant: Float64Array }> {
  const e = engine!;
  const dequant = new Float64Array(N * K);
  const shards: ShardedWeight['shards'] = [];
  for (let r0 = 0; r0 < N; r0 += 64) {
    const rows = Math.min(64, N - r0);
    const packed = packWeight(W.subarray(r0 * K, (r0 + rows) * K), format);
    dequant.set(unpackWeight(packed), r0 * K);
    shards.push({ r0, weight: await uploadWeight(e, packed, rows, K, `w[${r0}]`) });
  }
  return { w: { format, rows: N, cols: K, shards }, dequant };
}

describe('rowShardRanges', () => {
  it('keeps a weight that fits whole, else cuts it at multiples of 64 rows that fit, and refuses what cannot be cut', () => {
    expect(rowShardRanges('f32', 200, 36, 200 * 36 * 4)).toEqual([[0, 200]]);
    expect(rowShardRanges('f32', 200, 36, 64 * 36 * 4 + 100)).toEqual([[0, 64], [64, 64], [128, 64], [192, 8]]);
    // NF4: the codes set the size (half a byte per element); each shard's buffers fit.
    const nf4 = rowShardRanges('nf4', 14336, 4096, 2 ** 24);
    expect(nf4.every(([, r]) => Math.max(...weightBufferBytes('nf4', r, 4096)) <= 2 ** 24)).toBe(true);
    expect(nf4.slice(0, -1).every(([r0, r]) => r0 % 64 === 0 && r % 64 === 0)).toBe(true);
    expect(() => rowShardRanges('f32', 200, 4096, 60 * 4096 * 4)).toThrow(/cannot be cut into row shards .* use a smaller base precision/);
  });
});

describe.skipIf(!engine)('linears in row shards vs the CPU reference', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());
  const M = 70;
  // K=36: vec4 loads of X; K=17: scalar loads and unaligned W rows. dY's row stride N: vec4 loads for 132, scalar for 130.
  for (const [format, N, K] of [['f32', 132, 36], ['f32', 130, 17], ['bf16', 130, 36], ['int8', 132, 17], ['nf4', 132, 36]] as const) {
    it(`${format}: forward Y (${M}x${N}) = X W^T + b, backward-input dX += dY W, and the matvec, over shards [0:64] [64:128] [128:${N}], K=${K}`, async () => {
      const { w, dequant } = await sharded(format, rand(N * K, N + K, 0.5), N, K);
      const x = rand(M * K, 3, 1);
      const b = rand(N, 4, 1);
      const dy = rand(M * N, 5, 1);
      const dx0 = rand(M * K, 6, 1);
      const y0 = rand(N, 7, 1);
      const [gx, gb, gy, gdy, gdx, gv, gyv] = await Promise.all([
        upload(e, x, 'x'), upload(e, b, 'b'), upload(e, new Float32Array(M * N), 'y'), upload(e, dy, 'dy'), upload(e, dx0, 'dx'),
        upload(e, x.slice(0, K), 'x row'), upload(e, y0, 'y vec'),
      ]);
      const fwd = await prepareShardedLinearForward(e, { out: gy, x: gx, weight: w, bias: gb, M, label: 'fwd' });
      const bwd = await prepareShardedLinearBackwardInput(e, { dx: gdx, dy: gdy, weight: w, M, accumulate: true, label: 'bwd' });
      const mv = await prepareShardedMatvecWeight(e, { out: gyv, x: gv, weight: w, alpha: 0.5, accumulate: true, label: 'matvec' });
      expect([fwd.length, bwd.length, mv.length]).toEqual([3, 3, 3]);
      run(e, ...fwd, ...bwd, ...mv);

      const wantY = new Float64Array(M * N);
      linearForward(wantY, f64(x), dequant, f64(b), M, K, N);
      expect(mismatches(await read(e, gy, M * N), wantY, 2e-5 * Math.sqrt(K), 1e-5)).toBeNull();
      const wantDx = f64(dx0);
      linearBackward(wantDx, null, null, f64(dy), new Float64Array(M * K), dequant, M, K, N);
      expect(mismatches(await read(e, gdx, M * K), wantDx, 2e-5 * Math.sqrt(N), 1e-5)).toBeNull();
      const wantV = new Float64Array(N);
      linearForward(wantV, f64(x.slice(0, K)), dequant, null, 1, K, N);
      expect(mismatches(await read(e, gyv, N), wantV.map((v, i) => 0.5 * v + y0[i]), 2e-5 * Math.sqrt(K), 1e-5)).toBeNull();
      for (const op of [...fwd, ...bwd, ...mv]) op.destroy();
    });
  }
});
