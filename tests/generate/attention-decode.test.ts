import { afterAll, describe, expect, it } from 'vitest';
import { prepareAttentionDecode } from '../../src/engine/kernels/attention-decode';
import { allocDecodeStep, prepareKvAppend, writeDecodeStep } from '../../src/engine/kernels/kv-cache';
import { mismatches, rand, read, run, testEngine, upload } from '../gpu/gpu';

const engine = await testEngine();

/** Row i of the step at position pos0 + i attends to cache rows 0 .. pos0 + i, naively in float64. */
function naive(q: Float32Array, k: Float32Array, v: Float32Array, pos0: number, rows: number, H: number, KV: number, D: number): Float64Array {
  const out = new Float64Array(rows * H * D);
  for (let i = 0; i < rows; i++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / (H / KV));
      const n = pos0 + i + 1;
      const s = new Float64Array(n);
      for (let j = 0; j < n; j++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[(i * H + h) * D + d] * k[(j * KV + kvh) * D + d];
        s[j] = dot / Math.sqrt(D);
      }
      const m = Math.max(...s);
      let sum = 0;
      for (let j = 0; j < n; j++) sum += (s[j] = Math.exp(s[j] - m));
      for (let d = 0; d < D; d++) {
        let o = 0;
        for (let j = 0; j < n; j++) o += s[j] * v[(j * KV + kvh) * D + d];
        out[(i * H + h) * D + d] = o / sum;
      }
    }
  }
  return out;
}

describe.skipIf(!engine)('decode attention and the KV cache append', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  // [Tq, rows, H, KV, D, maxLen, pos0]: several key tiles of 64, D above 64 (two dims per thread) and at the 256 limit, padding rows
  const cases = [[1, 1, 4, 2, 8, 200, 150], [5, 3, 3, 1, 72, 70, 64], [2, 2, 2, 2, 256, 65, 63], [3, 3, 6, 3, 6, 9, 0]] as const;
  for (const [Tq, rows, H, KV, D, maxLen, pos0] of cases) {
    it(`Tq ${Tq} (${rows} valid) at position ${pos0}, H ${H}, KV ${KV}, D ${D}, cache ${maxLen}`, async () => {
      const q = rand(Tq * H * D, D + 1, 1);
      const kc = rand(maxLen * KV * D, D + 2, 1);
      const vc = rand(maxLen * KV * D, D + 3, 1);
      const sentinel = -7;
      const [gq, gk, gv, gout, step] = await Promise.all([
        upload(e, q, 'q'), upload(e, kc, 'k cache'), upload(e, vc, 'v cache'), upload(e, new Float32Array(Tq * H * D).fill(sentinel), 'out'), allocDecodeStep(e),
      ]);
      writeDecodeStep(e, step, pos0, rows);
      const op = await prepareAttentionDecode(e, { out: gout, step, q: gq, kCache: gk, vCache: gv, Tq, H, KV, D, maxLen });
      run(e, op);
      const got = await read(e, gout, Tq * H * D);
      expect(mismatches(got.subarray(0, rows * H * D), naive(q, kc, vc, pos0, rows, H, KV, D), 1e-5, 1e-5)).toBeNull();
      expect(got.subarray(rows * H * D).every((x) => x === sentinel)).toBe(true); // padding rows untouched
      op.destroy();
    });
  }

  it('appends the valid rows at pos0, never the padding, never past maxLen', async () => {
    const [Tq, W, maxLen] = [4, 10, 7];
    const k = rand(Tq * W, 1, 1);
    const v = rand(Tq * W, 2, 1);
    const [gk, gv, kc, vc, step] = await Promise.all([
      upload(e, k, 'k'), upload(e, v, 'v'), upload(e, new Float32Array(maxLen * W), 'kc'), upload(e, new Float32Array(maxLen * W), 'vc'), allocDecodeStep(e),
    ]);
    const op = await prepareKvAppend(e, { step, k: gk, v: gv, kCache: kc, vCache: vc, Tq, W, maxLen });
    writeDecodeStep(e, step, 1, 3); // rows 0..2 go to positions 1..3
    run(e, op);
    writeDecodeStep(e, step, 5, 4); // positions 5, 6; rows 2, 3 would be past maxLen
    run(e, op);
    const [gotK, gotV] = [await read(e, kc, maxLen * W), await read(e, vc, maxLen * W)];
    const want = (src: Float32Array) => {
      const c = new Float32Array(maxLen * W);
      c.set(src.subarray(0, 3 * W), W);
      c.set(src.subarray(0, 2 * W), 5 * W);
      return c;
    };
    expect(gotK).toEqual(want(k));
    expect(gotV).toEqual(want(v));
    op.destroy();
  });

  it('refuses a head dim above 256 and heads that do not group', async () => {
    const b = await upload(e, new Float32Array(4), 'b');
    const step = await allocDecodeStep(e);
    await expect(prepareAttentionDecode(e, { out: b, step, q: b, kCache: b, vCache: b, Tq: 1, H: 1, KV: 1, D: 258, maxLen: 1 })).rejects.toThrow(/exceeds 256/);
    await expect(prepareAttentionDecode(e, { out: b, step, q: b, kCache: b, vCache: b, Tq: 1, H: 3, KV: 2, D: 2, maxLen: 1 })).rejects.toThrow(/not a multiple of KV/);
  });
});
