import { afterAll, describe, expect, it } from 'vitest';
import { prepareEmbeddingBackward, prepareEmbeddingForward } from '../../src/engine/kernels/embedding';
import { embeddingBackward, embeddingForward } from '../../src/reference/ops/embedding';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();

/** Deterministic token ids in [0, V). */
function tokens(N: number, V: number, seed: number): Int32Array {
  return Int32Array.from(rand(N, seed), (x) => Math.min(V - 1, Math.floor(((x + 1) / 2) * V)));
}
const asU32 = (t: Int32Array) => new Uint32Array(t.buffer, t.byteOffset, t.length);

// [N, C, V]
const CASES: [number, number, number][] = [[1, 1, 1], [3, 17, 5], [17, 3, 257], [257, 5, 3]];

describe.skipIf(!engine)('embedding kernels vs the CPU reference', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  for (const [N, C, V] of CASES) {
    it(`gather and scatter-add, N=${N} C=${C} V=${V}`, async () => {
      const table = rand(V * C, N + C + V);
      const tok = tokens(N, V, 7 * N + V);
      const dout = rand(N * C, C + 1);
      const dtable0 = rand(V * C, 5);
      const [gtable, gtok, gout, gdout, gdtable] = await Promise.all([
        upload(e, table, 'table'), upload(e, asU32(tok), 'tokens'), upload(e, new Float32Array(N * C), 'out'),
        upload(e, dout, 'dout'), upload(e, dtable0, 'dtable'),
      ]);
      const want = new Float32Array(N * C);
      embeddingForward(want, table, tok, N, C, V);
      run(e, await prepareEmbeddingForward(e, { out: gout, table: gtable, tokens: gtok, N, C, V }));
      expect(mismatches(await read(e, gout, N * C), want, 0, 0)).toBeNull();

      // accumulate (default) onto existing values, repeated tokens included
      const dwant = Float32Array.from(dtable0);
      embeddingBackward(dwant, dout, tok, N, C);
      run(e, await prepareEmbeddingBackward(e, { dtable: gdtable, dout: gdout, tokens: gtok, N, C, V }));
      expect(mismatches(await read(e, gdtable, V * C), dwant, 1e-6, 1e-5)).toBeNull();

      // overwrite
      const dfresh = new Float32Array(V * C);
      embeddingBackward(dfresh, dout, tok, N, C);
      run(e, await prepareEmbeddingBackward(e, { dtable: gdtable, dout: gdout, tokens: gtok, N, C, V, accumulate: false }));
      expect(mismatches(await read(e, gdtable, V * C), dfresh, 1e-6, 1e-5)).toBeNull();
    });
  }

  // Gemma's embedding multiplier: sqrt(hidden) as the checkpoint's dtype rounds it (bf16 sqrt(2304) = 48), and an odd one.
  for (const scale of [48, Math.fround(Math.sqrt(17))]) {
    it(`scale ${scale}: forward multiplies the rows, backward the gradient`, async () => {
      const [N, C, V] = [17, 3, 257];
      const table = rand(V * C, 21);
      const tok = tokens(N, V, 22);
      const dout = rand(N * C, 23);
      const [gtable, gtok, gout, gdout, gdtable] = await Promise.all([
        upload(e, table, 'table'), upload(e, asU32(tok), 'tokens'), upload(e, new Float32Array(N * C), 'out'),
        upload(e, dout, 'dout'), upload(e, new Float32Array(V * C), 'dtable'),
      ]);
      const want = new Float32Array(N * C);
      embeddingForward(want, table, tok, N, C, V);
      for (let i = 0; i < want.length; i++) want[i] *= scale;
      run(e, await prepareEmbeddingForward(e, { out: gout, table: gtable, tokens: gtok, N, C, V, scale }));
      expect(mismatches(await read(e, gout, N * C), want, 0, 0)).toBeNull();
      const dwant = new Float32Array(V * C);
      embeddingBackward(dwant, dout, tok, N, C);
      for (let i = 0; i < dwant.length; i++) dwant[i] *= scale;
      run(e, await prepareEmbeddingBackward(e, { dtable: gdtable, dout: gdout, tokens: gtok, N, C, V, scale }));
      expect(mismatches(await read(e, gdtable, V * C), dwant, 1e-6, 1e-5)).toBeNull();
    });
  }

  it('a token outside [0, V) gives a zero row and no out-of-bounds read; the backward skips it', async () => {
    const [N, C, V] = [5, 3, 4];
    const table = rand(V * C, 11);
    const tok = Int32Array.from([2, -1, 4, 1 << 30, 0]);
    const [gtable, gtok, gout] = await Promise.all([
      upload(e, table, 'table'), upload(e, asU32(tok), 'tokens'), upload(e, rand(N * C, 1), 'out'),
    ]);
    run(e, await prepareEmbeddingForward(e, { out: gout, table: gtable, tokens: gtok, N, C, V }));
    const want = new Float32Array(N * C);
    for (const n of [0, 4]) want.set(table.subarray(tok[n] * C, tok[n] * C + C), n * C);
    expect(mismatches(await read(e, gout, N * C), want, 0, 0)).toBeNull();

    const dout = rand(N * C, 2);
    const [gdout, gdtable] = await Promise.all([upload(e, dout, 'dout'), upload(e, new Float32Array(V * C), 'dtable')]);
    run(e, await prepareEmbeddingBackward(e, { dtable: gdtable, dout: gdout, tokens: gtok, N, C, V }));
    const dwant = new Float32Array(V * C);
    embeddingBackward(dwant, dout, Int32Array.from([2, 0]), 1, C);                    // row 0 -> token 2
    for (let c = 0; c < C; c++) dwant[c] += dout[4 * C + c];                            // row 4 -> token 0
    expect(mismatches(await read(e, gdtable, V * C), dwant, 1e-6, 1e-6)).toBeNull();
  });

  it('guards: sizes and aliasing', async () => {
    const g = await upload(e, rand(12, 3), 'g');
    const t = await upload(e, new Uint32Array(4), 't');
    await expect(prepareEmbeddingForward(e, { out: g, table: g, tokens: t, N: 4, C: 3, V: 4 })).rejects.toThrow(/also an input/);
    await expect(prepareEmbeddingForward(e, { out: g, table: g, tokens: t, N: 4, C: 3, V: 5 })).rejects.toThrow(/table \(V, C\) = \(5, 3\)/);
    const h = await upload(e, rand(12, 4), 'h');
    await expect(prepareEmbeddingForward(e, { out: h, table: g, tokens: t, N: 4, C: 3, V: 4, scale: NaN })).rejects.toThrow(/scale must be a finite/);
  });
});
