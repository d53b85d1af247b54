import { afterAll, describe, expect, it } from 'vitest';
import { prepareAttentionDecode } from '../../src/engine/kernels/attention-decode';
import { allocDecodeStep, prepareKvAppend, writeDecodeStep } from '../../src/engine/kernels/kv-cache';
import { attentionForward, type AttentionOptions } from '../../src/reference/ops/attention';
import { mismatches, rand, read, run, testEngine, upload } from '../gpu/gpu';

const engine = await testEngine();

/**
 * The step's rows as rows pos0 .. pos0 + rows - 1 of the reference's attention over the first
 * pos0 + rows cache rows, in float64 (the queries of earlier positions are zero: only the output
 * rows of this step are compared), with the same options.
 */
function viaReference(
  q: Float32Array, k: Float32Array, v: Float32Array, pos0: number, rows: number, H: number, KV: number, D: number, opts: AttentionOptions,
): Float64Array {
  const T = pos0 + rows;
  const qT = new Float64Array(T * H * D);
  qT.set(q.subarray(0, rows * H * D), pos0 * H * D);
  const out = new Float64Array(T * H * D);
  attentionForward(out, new Float64Array(H * T * T), qT, Float64Array.from(k.subarray(0, T * KV * D)),
    Float64Array.from(v.subarray(0, T * KV * D)), 1, T, H, KV, D, opts);
  return out.subarray(pos0 * H * D);
}

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

  // Gemma's score variants, against the reference's attention: sliding windows at positions past
  // the window (decode and a prefill chunk with padding), window 1, a window >= the cache length
  // (full), softcap with a custom scale, GQA, and the first position.
  const variants: [number, number, number, number, number, number, number, AttentionOptions][] = [
    [1, 1, 4, 2, 8, 200, 150, { window: 20 }],
    [1, 1, 4, 2, 8, 200, 150, { window: 100 }],  // the window spans two key tiles of 64
    [5, 3, 3, 1, 72, 70, 64, { window: 10, softcap: 4, scale: 0.4 }],
    [2, 2, 2, 2, 16, 40, 30, { window: 1 }],
    [3, 3, 6, 3, 6, 9, 0, { window: 2 }],
    [1, 1, 2, 1, 32, 50, 49, { window: 50 }],
    [2, 2, 4, 1, 16, 90, 70, { softcap: 2, scale: 0.9 }],
  ];
  for (const [Tq, rows, H, KV, D, maxLen, pos0, opts] of variants) {
    it(`${JSON.stringify(opts)}: Tq ${Tq} (${rows} valid) at position ${pos0}, H ${H}, KV ${KV}, D ${D}, cache ${maxLen}`, async () => {
      const qkScale = opts.softcap ? 2 : 1;
      const q = rand(Tq * H * D, D + 5, qkScale);
      const kc = rand(maxLen * KV * D, D + 6, qkScale);
      const vc = rand(maxLen * KV * D, D + 7, 1);
      const [gq, gk, gv, gout, step] = await Promise.all([
        upload(e, q, 'q'), upload(e, kc, 'k cache'), upload(e, vc, 'v cache'), upload(e, new Float32Array(Tq * H * D), 'out'), allocDecodeStep(e),
      ]);
      writeDecodeStep(e, step, pos0, rows);
      const op = await prepareAttentionDecode(e, { out: gout, step, q: gq, kCache: gk, vCache: gv, Tq, H, KV, D, maxLen, ...opts });
      run(e, op);
      const got = await read(e, gout, rows * H * D);
      expect(mismatches(got, viaReference(q, kc, vc, pos0, rows, H, KV, D, opts), 1e-5, 1e-4)).toBeNull();
      if (!opts.window && !opts.softcap && !opts.scale) expect(mismatches(got, naive(q, kc, vc, pos0, rows, H, KV, D), 1e-5, 1e-5)).toBeNull();
      op.destroy();
    });
  }

  it('the default options give the naive attention (the reference path agrees with it)', () => {
    const [H, KV, D, pos0, rows] = [2, 1, 8, 5, 2];
    const q = rand(rows * H * D, 1), k = rand((pos0 + rows) * KV * D, 2), v = rand((pos0 + rows) * KV * D, 3);
    expect(mismatches(viaReference(q, k, v, pos0, rows, H, KV, D, {}), naive(q, k, v, pos0, rows, H, KV, D), 1e-12, 1e-12)).toBeNull();
  });

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
    await expect(prepareAttentionDecode(e, { out: b, step, q: b, kCache: b, vCache: b, Tq: 1, H: 1, KV: 1, D: 2, maxLen: 1, softcap: -1 })).rejects.toThrow(/softcap must be a positive/);
  });
});
