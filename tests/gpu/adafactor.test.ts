import { afterAll, describe, expect, it } from 'vitest';
import { adafactorTable, prepareAdafactor, type AdafactorTensor } from '../../src/engine/kernels/adafactor';
import { allocGradStats, prepareGradNorm } from '../../src/engine/kernels/grad-norm';
import { writeBuffer } from '../../src/engine/upload';
import { adafactorStateLength, adafactorStep, type AdafactorParams } from '../../src/reference/adafactor';
import { clipGradNorm } from '../../src/reference/ops/grad-norm';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();
const STEPS = 5;
const ATOL = 1e-6, RTOL = 2e-5;

/**
 * Tensors of every kind at aligned offsets with padding between them: 2-D with more rows than
 * columns and the reverse (LoRA's B and A), lines longer than a workgroup both ways, a single
 * row, a single column, 1-D.
 */
const TENSORS: AdafactorTensor[] = [
  { offset: 0, shape: [3, 5] },
  { offset: 64, shape: [7] },
  { offset: 128, shape: [300, 2] },
  { offset: 768, shape: [2, 300] },
  { offset: 1408, shape: [1, 9] },
  { offset: 1472, shape: [9, 1] },
  { offset: 1536, shape: [40, 50] },
];
const P = 1536 + 40 * 50 + 40; // padding at the end too

const BASE: AdafactorParams = { lr: 1e-2, eps1: 1e-30, eps2: 1e-3, clipThreshold: 1, decayRate: -0.8, beta1: null, weightDecay: 0, scaleParameter: false };

interface Case {
  name: string;
  hp: Partial<AdafactorParams>;
  maxNorm?: number;
  gradScale?: number;
  /** gradient scale: large gradients make the update clipping bite */
  gscale?: number;
}

const CASES: Case[] = [
  { name: 'defaults (no first moment)', hp: {} },
  { name: 'first moment + weight decay + global clipping + grad scale', hp: { beta1: 0.9, weightDecay: 0.1 }, maxNorm: 0.5, gradScale: 0.5 },
  { name: 'scaled by the parameter RMS, decay -0.5, clip threshold 0.1', hp: { scaleParameter: true, decayRate: -0.5, clipThreshold: 0.1 } },
];

/** The reference, tensor by tensor, on views of the flat buffers. */
function referenceStep(p: Float32Array, g: Float32Array, sq: Float32Array, m: Float32Array | null, step: number, hp: AdafactorParams) {
  let acc = 0;
  for (const t of TENSORS) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const len = adafactorStateLength(t.shape);
    adafactorStep(p.subarray(t.offset, t.offset + n), g.subarray(t.offset, t.offset + n), t.shape,
      sq.subarray(acc, acc + len), m ? m.subarray(t.offset, t.offset + n) : null, step, hp);
    acc += len;
  }
}

describe.skipIf(!engine)('Adafactor kernel vs src/reference/adafactor.ts', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  it('the table: offsets, accumulators (rows + cols, or n) and lines', () => {
    const t = adafactorTable(TENSORS, P);
    expect(t.tensors).toBe(TENSORS.length);
    expect(t.stateLength).toBe(8 + 7 + 302 + 302 + 10 + 10 + 90);
    expect(t.lines).toBe(t.stateLength);
    expect(Array.from(t.entries.subarray(8, 16))).toEqual([64, 1, 7, 8, 8, 0, 0, 0]);
    expect(() => adafactorTable([{ offset: 0, shape: [4, 4] }, { offset: 8, shape: [2] }], 64)).toThrow(/overlaps/);
    expect(() => adafactorTable([{ offset: 0, shape: [2, 2, 2] }], 64)).toThrow(/1-D or 2-D/);
  });

  for (const c of CASES) {
    it(`${c.name}: ${STEPS} steps agree`, async () => {
      const hp = { ...BASE, ...c.hp };
      const F = adafactorTable(TENSORS, P).stateLength;
      const p0 = rand(P, 7, 0.5);
      const grads = Array.from({ length: STEPS }, (_, t) => rand(P, 40 + t, 0.05 * (t + 1)));
      const withM = hp.beta1 !== null;
      const [gp, gg, sq, m, stats] = await Promise.all([
        upload(e, p0, 'param', 'lora'), upload(e, new Float32Array(P), 'grad', 'grads'),
        upload(e, new Float32Array(F), 'sq', 'optimizer'), upload(e, new Float32Array(P), 'm', 'optimizer'), allocGradStats(e),
      ]);
      const norm = await prepareGradNorm(e, { grads: gg, n: P, stats, maxNorm: c.maxNorm, gradScale: c.gradScale });
      const op = await prepareAdafactor(e, { param: gp, grad: gg, n: P, tensors: TENSORS, sq, m: withM ? m : null, stats, gradScale: c.gradScale });
      const ref = { p: Float32Array.from(p0), sq: new Float32Array(F), m: withM ? new Float32Array(P) : null };
      for (let t = 1; t <= STEPS; t++) {
        writeBuffer(e.gpu.device, gg, grads[t - 1]);
        const h = { ...hp, lr: hp.lr * (1 - 0.1 * t) };
        op.setStep(t, h);
        run(e, norm, op);
        const g = Float32Array.from(grads[t - 1], (v) => v * (c.gradScale ?? 1));
        if (c.maxNorm) clipGradNorm([g], c.maxNorm);
        referenceStep(ref.p, g, ref.sq, ref.m, t, h);
      }
      expect(mismatches(await read(e, gp, P), ref.p, ATOL, RTOL), 'param').toBeNull();
      expect(mismatches(await read(e, sq, F), ref.sq, 1e-12, RTOL), 'second moment').toBeNull();
      if (ref.m) expect(mismatches(await read(e, m, P), ref.m, ATOL, RTOL), 'first moment').toBeNull();
      // the padding between tensors is never touched
      const got = await read(e, gp, P);
      expect(got[15]).toBe(p0[15]);
      expect(got[P - 1]).toBe(p0[P - 1]);
      op.destroy();
      norm.destroy();
    });
  }

  it('the update clipping bites in the clipped case (the test is not vacuous), and a non-finite step changes nothing', async () => {
    const hp: AdafactorParams = { ...BASE, clipThreshold: 0.1 };
    const n = 6;
    const p = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const sq = new Float32Array(5);
    const g = Float32Array.from([0.3, -0.1, 0.2, 0.5, -0.4, 0.05]);
    const before = Float32Array.from(p);
    adafactorStep(p, g, [2, 3], sq, null, 1, hp);
    // unclipped, the first step's update has RMS about 1: clipped to 0.1, each coordinate moves far less than lr
    const moved = Math.sqrt(p.reduce((s, x, i) => s + (x - before[i]) ** 2, 0) / n);
    expect(moved / (0.1 * hp.lr)).toBeCloseTo(1, 2);

    const tensors: AdafactorTensor[] = [{ offset: 0, shape: [2, 3] }];
    const [gp, gg, gsq, stats] = await Promise.all([
      upload(e, before, 'param', 'lora'), upload(e, g, 'grad', 'grads'), upload(e, new Float32Array(5), 'sq', 'optimizer'), allocGradStats(e),
    ]);
    const norm = await prepareGradNorm(e, { grads: gg, n, stats, maxNorm: 1 });
    const op = await prepareAdafactor(e, { param: gp, grad: gg, n, tensors, sq: gsq, m: null, stats });
    expect(() => run(e, op)).toThrow(/setStep/);
    writeBuffer(e.gpu.device, gg, new Float32Array([NaN]), 4);
    op.setStep(1, hp);
    run(e, norm, op);
    expect(Array.from(await read(e, gp, n))).toEqual(Array.from(before));
    expect(Array.from(await read(e, gsq, 5))).toEqual([0, 0, 0, 0, 0]);
    expect(() => op.setStep(1, { ...hp, beta1: 0.9 })).toThrow(/first-moment/);
    op.destroy();
    norm.destroy();
  });
});
