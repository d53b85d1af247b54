import { afterAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/context';
import {
  CE_STATS_LENGTH, prepareCrossEntropyBackward, prepareCrossEntropyChunk, prepareCrossEntropyFinalize,
} from '../../src/engine/kernels/cross-entropy';
import { crossEntropyBackward, crossEntropyForward, IGNORE_INDEX } from '../../src/reference/ops/cross-entropy';
import { softcapBackward, softcapForward } from '../../src/reference/ops/softcap';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();
const asU32 = (t: Int32Array) => new Uint32Array(t.buffer, t.byteOffset, t.length);

/** Columns [v0, v0 + Vc) of a (N, V) matrix, packed (N, Vc). */
function columns(m: Float32Array, N: number, V: number, v0: number, Vc: number): Float32Array {
  const out = new Float32Array(N * Vc);
  for (let n = 0; n < N; n++) out.set(m.subarray(n * V + v0, n * V + v0 + Vc), n * Vc);
  return out;
}

type Layout = 'packed' | 'strided';

/**
 * The chunked forward and backward on the GPU: 'packed' uploads each chunk as its own (N, Vc)
 * buffer; 'strided' binds the chunks of one (N, V) matrix at byte offset 4 v0 with ld = V.
 */
async function gpuCrossEntropy(e: Engine, logits: Float32Array, targets: Int32Array, N: number, V: number,
  chunk: number, layout: Layout, dloss = 1, softcap: number | null = null) {
  const z = () => upload(e, new Float32Array(N), 'row');
  const [gmax, gsum, gtl, glse, gloss, gt, gstats] = await Promise.all([
    z(), z(), z(), z(), z(), upload(e, asU32(targets), 'targets'), upload(e, new Float32Array(CE_STATS_LENGTH).fill(NaN), 'stats'),
  ]);
  const state = { max: gmax, sumexp: gsum, targetLogit: gtl };
  const chunks: { v0: number; Vc: number }[] = [];
  for (let v0 = 0; v0 < V; v0 += chunk) chunks.push({ v0, Vc: Math.min(chunk, V - v0) });

  // Each pass gets its own logits buffers, as the graph recomputes the logits for the backward.
  const logitBuffers = async () => {
    if (layout === 'packed') {
      const bs = await Promise.all(chunks.map(({ v0, Vc }) => upload(e, columns(logits, N, V, v0, Vc), 'chunk')));
      return bs.map((b) => ({ buf: b, ref: b }));
    }
    const full = await upload(e, logits, 'logits'); // offsets 4 v0 = 256 bytes per 64 columns: aligned
    return chunks.map(({ v0 }) => ({ buf: full, ref: { buffer: full, offset: 4 * v0 } }));
  };
  const ld = (Vc: number) => (layout === 'strided' ? V : Vc);

  const fwdBufs = await logitBuffers();
  const fwd = await Promise.all(chunks.map(({ v0, Vc }, i) => prepareCrossEntropyChunk(e, {
    state, logits: fwdBufs[i].ref, targets: gt, N, V, v0, Vc, ld: ld(Vc), softcap,
  })));
  const fin = await prepareCrossEntropyFinalize(e, { lse: glse, loss: gloss, stats: gstats, state, targets: gt, N, V });
  run(e, ...fwd, fin);

  const bwdBufs = await logitBuffers();
  const bwd = await Promise.all(chunks.map(({ v0, Vc }, i) => prepareCrossEntropyBackward(e, {
    logits: bwdBufs[i].ref, lse: glse, stats: gstats, targets: gt, N, V, v0, Vc, ld: ld(Vc), dloss, softcap,
  })));
  run(e, ...bwd);

  const dlogits = new Float32Array(N * V);
  if (layout === 'strided') {
    dlogits.set(await read(e, bwdBufs[0].buf, N * V));
  } else {
    for (const [i, { v0, Vc }] of chunks.entries()) {
      const d = await read(e, bwdBufs[i].buf, N * Vc);
      for (let n = 0; n < N; n++) dlogits.set(d.subarray(n * Vc, n * Vc + Vc), n * V + v0);
    }
  }
  return {
    lse: await read(e, glse, N), loss: await read(e, gloss, N), stats: await read(e, gstats, CE_STATS_LENGTH), dlogits,
    setDloss: (d: number) => bwd.forEach((op) => op.setDloss(d)),
  };
}

/** The reference; with a softcap: softcapForward, cross-entropy of the capped logits, then both backwards. */
function reference(raw: Float32Array, targets: Int32Array, N: number, V: number, dloss = 1, softcap: number | null = null) {
  const logits = Float64Array.from(raw);
  if (softcap !== null) softcapForward(logits, Float64Array.from(raw), N * V, softcap);
  const lse = new Float64Array(N);
  const { loss, count } = crossEntropyForward(lse, logits, targets, N, V);
  const rows = new Float64Array(N);
  for (let n = 0; n < N; n++) if (targets[n] !== IGNORE_INDEX) rows[n] = lse[n] - logits[n * V + targets[n]];
  const dcapped = new Float64Array(N * V);
  crossEntropyBackward(dcapped, logits, lse, targets, N, V, dloss);
  let dlogits = dcapped;
  if (softcap !== null) {
    dlogits = new Float64Array(N * V);
    softcapBackward(dlogits, dcapped, logits, N * V, softcap);
  }
  return { lse, loss, count, rows, dlogits: Float32Array.from(dlogits) };
}

/** Targets in [0, V), with -100 at the rows in `ignored`; some targets in the short last chunk. */
function makeTargets(N: number, V: number, ignored: number[]): Int32Array {
  const t = Int32Array.from({ length: N }, (_, n) => (n * 97 + 13) % V);
  t[1] = V - 1;
  t[2] = 0;
  for (const n of ignored) t[n] = IGNORE_INDEX;
  return t;
}

describe.skipIf(!engine)('chunked cross-entropy vs the CPU reference', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  const [N, V] = [17, 257];
  const CASES: [chunk: number, layout: Layout, scale: number][] = [
    [64, 'packed', 4], [257, 'packed', 4], [64, 'strided', 4], [64, 'packed', 60], [100, 'packed', 1],
  ];
  for (const [chunk, layout, scale] of CASES) {
    it(`N=${N} V=${V} in chunks of ${chunk} (${layout}), logits in [-${scale}, ${scale})`, async () => {
      const logits = rand(N * V, chunk + scale, scale);
      const targets = makeTargets(N, V, [0, 5, 16]);
      const want = reference(logits, targets, N, V);
      const got = await gpuCrossEntropy(e, logits, targets, N, V, chunk, layout);
      expect(mismatches(got.lse, want.lse, 1e-5, 1e-6)).toBeNull();
      expect(mismatches(got.loss, want.rows, 1e-5, 1e-5)).toBeNull();
      expect(mismatches(got.stats, [want.loss, want.count, want.loss * want.count, 0], 1e-5, 1e-5)).toBeNull();
      expect(mismatches(got.dlogits, want.dlogits, 1e-7, 1e-4)).toBeNull();
    });
  }

  // Gemma 2's final-logit softcap (30 in the checkpoints): logits well inside and far beyond the cap.
  const SOFTCAPS: [chunk: number, layout: Layout, scale: number, cap: number][] = [
    [64, 'packed', 4, 30], [64, 'strided', 60, 30], [257, 'packed', 8, 2], [100, 'packed', 1e4, 5],
  ];
  for (const [chunk, layout, scale, cap] of SOFTCAPS) {
    it(`softcap ${cap}: N=${N} V=${V} in chunks of ${chunk} (${layout}), logits in [-${scale}, ${scale})`, async () => {
      const logits = rand(N * V, chunk + scale + cap, scale);
      const targets = makeTargets(N, V, [0, 5, 16]);
      const want = reference(logits, targets, N, V, 0.5, cap);
      const got = await gpuCrossEntropy(e, logits, targets, N, V, chunk, layout, 0.5, cap);
      expect(mismatches(got.lse, want.lse, 1e-5, 1e-6)).toBeNull();
      expect(mismatches(got.loss, want.rows, 1e-5, 1e-5)).toBeNull();
      expect(mismatches(got.stats, [want.loss, want.count, want.loss * want.count, 0], 1e-5, 1e-5)).toBeNull();
      expect(mismatches(got.dlogits, want.dlogits, 1e-7, 1e-4)).toBeNull();
    });
  }

  it('dloss scales the gradient (setDloss between steps)', async () => {
    const logits = rand(N * V, 9, 3);
    const targets = makeTargets(N, V, [4]);
    const got = await gpuCrossEntropy(e, logits, targets, N, V, 64, 'packed', 0.25);
    expect(mismatches(got.dlogits, reference(logits, targets, N, V, 0.25).dlogits, 1e-7, 1e-4)).toBeNull();
  });

  it('all rows ignored: loss 0, count 0, zero gradients, no NaN', async () => {
    const logits = rand(N * V, 3, 4);
    const targets = new Int32Array(N).fill(IGNORE_INDEX);
    const want = reference(logits, targets, N, V);
    expect(want.loss).toBe(0);
    const got = await gpuCrossEntropy(e, logits, targets, N, V, 64, 'packed');
    expect(mismatches(got.stats, [0, 0, 0, 0], 0, 0)).toBeNull();
    expect(mismatches(got.loss, new Float32Array(N), 0, 0)).toBeNull();
    expect(mismatches(got.lse, want.lse, 1e-5, 1e-6)).toBeNull();
    expect(mismatches(got.dlogits, new Float32Array(N * V), 0, 0)).toBeNull();
  });

  it('N = 1, V = 1 and a single chunk', async () => {
    const got = await gpuCrossEntropy(e, Float32Array.from([2.5]), Int32Array.from([0]), 1, 1, 1, 'packed');
    expect(mismatches(got.stats, [0, 1, 0, 0], 1e-7, 0)).toBeNull();
    expect(mismatches(got.dlogits, [0], 1e-7, 0)).toBeNull();
  });

  it('guards', async () => {
    const g = await upload(e, new Float32Array(64), 'g');
    const t = await upload(e, new Uint32Array(4), 't');
    const state = { max: g, sumexp: g, targetLogit: g };
    await expect(prepareCrossEntropyChunk(e, { state, logits: g, targets: t, N: 4, V: 10, v0: 8, Vc: 4 })).rejects.toThrow(/outside the vocabulary/);
    await expect(prepareCrossEntropyChunk(e, { state, logits: g, targets: t, N: 4, V: 10, v0: 0, Vc: 4, ld: 3 })).rejects.toThrow(/row stride/);
    await expect(prepareCrossEntropyChunk(e, { state, logits: g, targets: t, N: 4, V: 10, v0: 0, Vc: 4 })).rejects.toThrow(/also an input/);
    await expect(prepareCrossEntropyBackward(e, { logits: g, lse: t, stats: t, targets: t, N: 4, V: 10, v0: 0, Vc: 4, softcap: 0 }))
      .rejects.toThrow(/softcap must be a positive/);
  });
});
