import { afterAll, describe, expect, it } from 'vitest';
import { allocGradStats, prepareGradNorm } from '../../src/engine/kernels/grad-norm';
import { prepareAdamW, prepareSgd, type AdamWParams, type SgdParams } from '../../src/engine/kernels/optim';
import type { Engine } from '../../src/engine/context';
import { writeBuffer } from '../../src/engine/upload';
import { adamwStep, sgdStep } from '../../src/reference/optim';
import { clipGradNorm } from '../../src/reference/ops/grad-norm';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();
const STEPS = 5;
const SIZES = [1, 3, 17, 257, 1000];
const ATOL = 1e-6, RTOL = 1e-5;

/** An engine whose dispatch limit is tiny, to exercise the 2D grid on small shapes. */
function withMaxGroups(e: Engine, max: number): Engine {
  return { ...e, gpu: { ...e.gpu, limits: { ...e.gpu.limits, maxComputeWorkgroupsPerDimension: max } } };
}

/** The learning rate of step t: a small schedule, so every step writes a different uniform. */
const lrAt = (t: number) => 1e-2 * (1 - 0.1 * t);

interface Case {
  name: string;
  maxNorm?: number;
  gradScale?: number;
  adamw?: Omit<AdamWParams, 'lr'>;
  sgd?: Omit<SgdParams, 'lr'>;
}

const CASES: Case[] = [
  { name: 'AdamW', adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 } },
  { name: 'AdamW + weight decay + clipping', maxNorm: 0.05, adamw: { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 } },
  { name: 'AdamW + grad scale + clipping', maxNorm: 0.02, gradScale: 0.25, adamw: { beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.01 } },
  { name: 'SGD plain + weight decay', sgd: { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.01 } },
  { name: 'SGD momentum + clipping', maxNorm: 0.05, sgd: { momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 } },
  { name: 'SGD momentum + dampening', sgd: { momentum: 0.9, dampening: 0.1, nesterov: false, weightDecay: 0.01 } },
  { name: 'SGD Nesterov + weight decay + clipping', maxNorm: 0.05, gradScale: 0.5, sgd: { momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.05 } },
];

/** STEPS steps on the GPU (grad-norm + optimizer in one pass per step) and on the CPU reference. */
async function compare(e: Engine, c: Case, P: number) {
  const p0 = rand(P, P + 1, 1);
  const grads = Array.from({ length: STEPS }, (_, t) => rand(P, 100 * P + t, 0.1));
  const z = () => new Float32Array(P);
  const [gp, gg, s1, s2, stats] = await Promise.all([
    upload(e, p0, 'param', 'lora'), upload(e, z(), 'grad', 'grads'),
    upload(e, z(), 'state1', 'optimizer'), upload(e, z(), 'state2', 'optimizer'), allocGradStats(e),
  ]);
  const norm = await prepareGradNorm(e, { grads: gg, n: P, stats, maxNorm: c.maxNorm, gradScale: c.gradScale });
  const base = { param: gp, grad: gg, n: P, stats, gradScale: c.gradScale };
  const ref = { p: Float32Array.from(p0), s1: z(), s2: z() };
  if (c.adamw) {
    const op = await prepareAdamW(e, { ...base, m: s1, v: s2 });
    for (let t = 1; t <= STEPS; t++) {
      writeBuffer(e.gpu.device, gg, grads[t - 1]);
      const hp = { ...c.adamw, lr: lrAt(t) };
      op.setStep(t, hp);
      run(e, norm, op);
      const g = refGrad(grads[t - 1], c);
      adamwStep(ref.p, g, ref.s1, ref.s2, t, hp);
    }
    op.destroy();
  } else {
    const sgd = c.sgd!;
    const op = await prepareSgd(e, { ...base, momentumBuffer: sgd.momentum ? s1 : null }, { ...sgd, lr: lrAt(1) });
    for (let t = 1; t <= STEPS; t++) {
      writeBuffer(e.gpu.device, gg, grads[t - 1]);
      const hp = { ...sgd, lr: lrAt(t) };
      op.setStep(t, hp);
      run(e, norm, op);
      sgdStep(ref.p, refGrad(grads[t - 1], c), ref.s1, t, hp);
    }
    op.destroy();
  }
  norm.destroy();
  const got = { p: await read(e, gp, P), s1: await read(e, s1, P), s2: await read(e, s2, P) };
  for (const b of [gp, gg, s1, s2, stats]) e.pool.destroy(b);
  return { got, ref };
}

/** The gradient the reference optimizer sees: scaled, then clipped as torch clips. */
function refGrad(g: Float32Array, c: Case): Float32Array {
  const out = Float32Array.from(g, (v) => v * (c.gradScale ?? 1));
  if (c.maxNorm) clipGradNorm([out], c.maxNorm);
  return out;
}

describe.skipIf(!engine)('optimizer kernels vs src/reference/optim.ts', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  for (const c of CASES) {
    it(`${c.name}: ${STEPS} steps on P = ${SIZES.join(', ')}`, async () => {
      for (const P of SIZES) {
        const { got, ref } = await compare(e, c, P);
        expect(mismatches(got.p, ref.p, ATOL, RTOL), `${c.name} P=${P} param`).toBeNull();
        expect(mismatches(got.s1, ref.s1, ATOL, RTOL), `${c.name} P=${P} m / momentum`).toBeNull();
        if (c.adamw) expect(mismatches(got.s2, ref.s2, ATOL, RTOL), `${c.name} P=${P} v`).toBeNull();
      }
    });
  }

  it('clipping really bites in the clipped cases (the test is not vacuous)', async () => {
    const P = 257;
    const g = Float32Array.from(rand(P, 100 * P, 0.1), (v) => v * 0.25);
    expect(clipGradNorm([Float32Array.from(g)], 0.02)).toBeGreaterThan(0.1);
  });

  it('a step with non-finite gradients changes nothing; encode before setStep throws; 2D grid', async () => {
    const P = 3000; // 12 workgroups -> a 4 x 3 grid with the dispatch limit set to 5
    const p0 = rand(P, 1), g = rand(P, 2, 0.1);
    const [gp, gg, m, v, stats] = await Promise.all([
      upload(e, p0, 'param', 'lora'), upload(e, g, 'grad', 'grads'),
      upload(e, new Float32Array(P), 'm', 'optimizer'), upload(e, new Float32Array(P), 'v', 'optimizer'), allocGradStats(e),
    ]);
    const norm = await prepareGradNorm(e, { grads: gg, n: P, stats, maxNorm: 1 });
    const op = await prepareAdamW(withMaxGroups(e, 5), { param: gp, grad: gg, n: P, stats, m, v });
    expect(op.workgroups).toEqual([4, 3, 1]);
    expect(() => run(e, op)).toThrow(/setStep/);
    const hp = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
    op.setStep(1, hp);
    run(e, norm, op);
    const ref = { p: Float32Array.from(p0), m: new Float32Array(P), v: new Float32Array(P) };
    const gc = Float32Array.from(g);
    clipGradNorm([gc], 1);
    adamwStep(ref.p, gc, ref.m, ref.v, 1, hp);
    expect(mismatches(await read(e, gp, P), ref.p, ATOL, RTOL)).toBeNull();
    // poison one gradient: grad-norm flags it and the optimizer leaves p, m, v as they were
    writeBuffer(e.gpu.device, gg, new Float32Array([NaN]), 4 * 1234);
    op.setStep(2, hp);
    run(e, norm, op);
    expect(mismatches(await read(e, gp, P), ref.p, ATOL, RTOL)).toBeNull();
    expect(mismatches(await read(e, m, P), ref.m, ATOL, RTOL)).toBeNull();
    expect(mismatches(await read(e, v, P), ref.v, ATOL, RTOL)).toBeNull();
    expect(() => op.setStep(0, hp)).toThrow(/1-based/);
    op.destroy();
    norm.destroy();
  });

  it('without stats: no clipping and no skip; guards', async () => {
    const P = 17;
    const p0 = rand(P, 3), g = rand(P, 4);
    const [gp, gg, buf] = await Promise.all([upload(e, p0, 'param', 'lora'), upload(e, g, 'grad', 'grads'), upload(e, new Float32Array(P), 'buf', 'optimizer')]);
    const hp: SgdParams = { lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0 };
    const op = await prepareSgd(e, { param: gp, grad: gg, n: P, stats: null, momentumBuffer: null }, hp);
    op.setStep(1, hp);
    run(e, op);
    const ref = Float32Array.from(p0);
    sgdStep(ref, g, new Float32Array(P), 1, hp);
    expect(mismatches(await read(e, gp, P), ref, ATOL, RTOL)).toBeNull();
    expect(() => op.setStep(2, { ...hp, momentum: 0.9 })).toThrow(/cannot switch/);
    op.destroy();
    await expect(prepareSgd(e, { param: gp, grad: gg, n: P, stats: null, momentumBuffer: null }, { ...hp, momentum: 0.9 })).rejects.toThrow(/needs a momentum buffer/);
    await expect(prepareSgd(e, { param: gp, grad: gg, n: P, stats: null, momentumBuffer: buf }, { ...hp, nesterov: true })).rejects.toThrow(/Nesterov/);
    await expect(prepareAdamW(e, { param: gp, grad: gg, n: P, stats: null, m: buf, v: buf })).rejects.toThrow(/also an input/);
    await expect(prepareAdamW(e, { param: gp, grad: gp, n: P, stats: null, m: buf, v: gg })).rejects.toThrow(/also an input/);
    await expect(prepareAdamW(e, { param: gp, grad: gg, n: P + 1, stats: null, m: buf, v: gg })).rejects.toThrow(/needs 72 bytes/);
  });
});
