import { afterAll, describe, expect, it } from 'vitest';
import {
  allocGradStats, decodeGradStats, gradNormPartials, MAX_PARTIALS, prepareGradNorm, type GradStats,
} from '../../src/engine/kernels/grad-norm';
import { readBuffers } from '../../src/engine/readback';
import { writeBuffer } from '../../src/engine/upload';
import type { Engine } from '../../src/engine/context';
import { globalGradNorm } from '../../src/reference/ops/grad-norm';
import { rand, run, testEngine, upload } from './gpu';

const engine = await testEngine();

async function readStats(e: Engine, stats: GPUBuffer): Promise<GradStats & { bits: Uint32Array }> {
  const [bytes] = await readBuffers(e.gpu.device, [{ buffer: stats }]);
  return { ...decodeGradStats(bytes), bits: new Uint32Array(bytes.slice(0)) };
}

/** torch.nn.utils.clip_grad_norm_'s coefficient (reference/ops/grad-norm.ts), 1 without clipping. */
function refCoef(norm: number, maxNorm: number | undefined): number {
  return maxNorm && maxNorm > 0 && Number.isFinite(maxNorm) ? Math.min(maxNorm / (norm + 1e-6), 1) : 1;
}

const close = (got: number, want: number, atol: number, rtol: number) =>
  expect(Math.abs(got - want), `got ${got}, want ${want}`).toBeLessThanOrEqual(atol + rtol * Math.abs(want));

describe.skipIf(!engine)('global grad norm and clip coefficient', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  // n = 1_100_003 uses MAX_PARTIALS (256) workgroups, each thread striding over 17 elements
  for (const n of [1, 3, 17, 257, 1000, 300_001, 1_100_003]) {
    it(`n=${n}: sumsq, norm and clip coefficients vs the reference`, async () => {
      const g = rand(n, n, 0.01);
      const want = globalGradNorm([g]);
      const [gg, stats] = await Promise.all([upload(e, g, 'grads', 'grads'), allocGradStats(e)]);
      const maxNorms = n > 1000 ? [want / 3] : [undefined, 0, Infinity, 10 * want, want / 3];
      for (const maxNorm of maxNorms) {
        const op = await prepareGradNorm(e, { grads: gg, n, stats, maxNorm });
        run(e, op);
        const s = await readStats(e, stats);
        close(s.norm, want, 1e-7, 1e-5);
        close(s.sumsq, want * want, 1e-12, 2e-5);
        close(s.clipCoef, refCoef(want, maxNorm), 1e-7, 1e-5);
        expect(s.nonFinite).toBe(false);
        expect(s.nonFiniteSteps).toBe(0);
        op.destroy();
      }
      expect(gradNormPartials(n)).toBe(Math.min(MAX_PARTIALS, Math.ceil(n / (256 * 64))));
    });
  }

  it('applies gradScale before squaring; setMaxNorm changes the threshold; bitwise reproducible', async () => {
    const n = 4099;
    const g = rand(n, 5, 2);
    const [gg, s1, s2] = await Promise.all([upload(e, g, 'grads', 'grads'), allocGradStats(e), allocGradStats(e)]);
    const want = globalGradNorm([g]) * 0.25;
    const a = await prepareGradNorm(e, { grads: gg, n, stats: s1, gradScale: 0.25, maxNorm: 1e9 });
    const b = await prepareGradNorm(e, { grads: gg, n, stats: s2, gradScale: 0.25, maxNorm: 1e9 });
    run(e, a, b);
    const [ra, rb] = [await readStats(e, s1), await readStats(e, s2)];
    close(ra.norm, want, 1e-7, 1e-5);
    expect(ra.clipCoef).toBe(1);
    expect([...ra.bits]).toEqual([...rb.bits]);
    a.setMaxNorm(want / 2);
    run(e, a);
    close((await readStats(e, s1)).clipCoef, refCoef(want, want / 2), 1e-7, 1e-5);
    a.setMaxNorm(undefined);
    run(e, a);
    expect((await readStats(e, s1)).clipCoef).toBe(1);
    a.destroy();
    b.destroy();
  });

  it('flags NaN/Inf in the gradients or the loss, and counts flagged runs until reset', async () => {
    const n = 2000;
    const g = rand(n, 9);
    const loss = new Float32Array([0, 1.5, 2.5, 0]);
    const [gg, gl, stats] = await Promise.all([upload(e, g, 'grads', 'grads'), upload(e, loss, 'loss'), allocGradStats(e)]);
    const op = await prepareGradNorm(e, { grads: gg, n, stats, maxNorm: 1, loss: { buffer: gl, offset: 1, count: 2 } });
    run(e, op);
    expect((await readStats(e, stats)).nonFinite).toBe(false);

    const cases: [string, () => void][] = [
      ['NaN gradient', () => writeBuffer(e.gpu.device, gg, new Float32Array([NaN]), 4 * 1999)],
      ['+Inf gradient', () => writeBuffer(e.gpu.device, gg, new Float32Array([Infinity]), 4 * 3)],
      ['-Inf gradient', () => writeBuffer(e.gpu.device, gg, new Float32Array([-Infinity]))],
      ['overflowing sum of squares', () => writeBuffer(e.gpu.device, gg, new Float32Array([3e38]), 4 * 7)],
      ['NaN loss', () => writeBuffer(e.gpu.device, gl, new Float32Array([NaN]), 4 * 2)],
    ];
    let count = 0;
    for (const [what, poison] of cases) {
      writeBuffer(e.gpu.device, gg, g);
      writeBuffer(e.gpu.device, gl, loss);
      poison();
      run(e, op);
      const s = await readStats(e, stats);
      expect(s.nonFinite, what).toBe(true);
      expect(s.nonFiniteSteps, what).toBe(++count);
    }
    // NaN outside the checked loss range is ignored; a clean step clears [3] but not the count
    writeBuffer(e.gpu.device, gg, g);
    writeBuffer(e.gpu.device, gl, new Float32Array([NaN, 1, 2, NaN]));
    run(e, op);
    let s = await readStats(e, stats);
    expect(s.nonFinite).toBe(false);
    expect(s.nonFiniteSteps).toBe(count);
    writeBuffer(e.gpu.device, stats, new Uint32Array([0]), 16); // the trainer's reset
    run(e, op);
    s = await readStats(e, stats);
    expect(s.nonFiniteSteps).toBe(0);
    op.destroy();
  });

  it('a gradient in pieces (the LoRA state in chunks): one norm over all of them, a NaN in any piece flagged, setMaxNorm on all', async () => {
    const sizes = [17, 300_001, 1000];
    const parts = sizes.map((n, i) => rand(n, 31 + i, 0.01));
    const want = globalGradNorm(parts);
    const stats = await allocGradStats(e);
    // The middle piece is a view 256 bytes into its buffer, as a chunk of the flat state may be bound.
    const bufs = await Promise.all(parts.map((g, i) => upload(e, i === 1 ? Float32Array.from([...new Float32Array(64), ...g]) : g, `grads ${i}`, 'grads')));
    const pieces = bufs.map((buffer, i) => ({ grads: i === 1 ? { buffer, offset: 256 } : buffer, n: sizes[i] }));
    const op = await prepareGradNorm(e, { pieces, stats, maxNorm: want / 3, gradScale: 0.5 });
    run(e, op);
    let s = await readStats(e, stats);
    close(s.norm, want * 0.5, 1e-7, 1e-5);
    close(s.clipCoef, refCoef(want * 0.5, want / 3), 1e-7, 1e-5);
    expect(s.nonFinite).toBe(false);
    op.setMaxNorm(undefined);
    run(e, op);
    expect((await readStats(e, stats)).clipCoef).toBe(1);
    writeBuffer(e.gpu.device, bufs[2], new Float32Array([NaN]), 4 * 999);
    run(e, op);
    s = await readStats(e, stats);
    expect(s.nonFinite).toBe(true);
    op.destroy();
  });

  it('guards: bad sizes and a stats buffer that is also an input', async () => {
    const g = await upload(e, rand(10, 1), 'grads', 'grads');
    const stats = await allocGradStats(e);
    const before = e.pool.ledgerSnapshot().count;
    await expect(prepareGradNorm(e, { grads: g, n: 11, stats })).rejects.toThrow(/grads \(n\) = \(11\) needs 44 bytes/);
    await expect(prepareGradNorm(e, { grads: g, n: 0, stats })).rejects.toThrow(/n must be a positive integer/);
    await expect(prepareGradNorm(e, { grads: g, n: 8, stats: g })).rejects.toThrow(/also an input/);
    expect(e.pool.ledgerSnapshot().count).toBe(before); // no workspace leaked
  });
});
