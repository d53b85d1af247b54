import { afterAll, describe, expect, it } from 'vitest';
import { allocGradStats, prepareGradNorm } from '../../src/engine/kernels/grad-norm';
import { prepareLion, prepareSophia, prepareSophiaHessian, type LionParams, type SophiaParams } from '../../src/engine/kernels/optim';
import { writeBuffer } from '../../src/engine/upload';
import { lionStep } from '../../src/reference/lion';
import { sophiaHessianUpdate, sophiaStep } from '../../src/reference/sophia';
import { clipGradNorm } from '../../src/reference/ops/grad-norm';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();
const STEPS = 5;
const SIZES = [1, 17, 1000];
const ATOL = 1e-6, RTOL = 1e-5;
const lrAt = (t: number) => 1e-2 * (1 - 0.1 * t);

/** The gradient the reference sees: scaled, then clipped as torch clips. */
function refGrad(g: Float32Array, gradScale: number, maxNorm?: number): Float32Array {
  const out = Float32Array.from(g, (v) => v * gradScale);
  if (maxNorm) clipGradNorm([out], maxNorm);
  return out;
}

describe.skipIf(!engine)('Lion and Sophia kernels vs src/reference', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  const lionCases: { name: string; hp: Omit<LionParams, 'lr'>; maxNorm?: number; gradScale?: number }[] = [
    { name: 'Lion', hp: { beta1: 0.9, beta2: 0.99, weightDecay: 0 } },
    { name: 'Lion + weight decay + clipping + grad scale', hp: { beta1: 0.8, beta2: 0.95, weightDecay: 0.5 }, maxNorm: 0.05, gradScale: 0.5 },
  ];
  for (const c of lionCases) {
    it(`${c.name}: ${STEPS} steps on P = ${SIZES.join(', ')}`, async () => {
      for (const P of SIZES) {
        const p0 = rand(P, P + 3, 1);
        const grads = Array.from({ length: STEPS }, (_, t) => rand(P, 50 * P + t, 0.1));
        const [gp, gg, m, stats] = await Promise.all([
          upload(e, p0, 'param', 'lora'), upload(e, new Float32Array(P), 'grad', 'grads'), upload(e, new Float32Array(P), 'm', 'optimizer'), allocGradStats(e),
        ]);
        const norm = await prepareGradNorm(e, { grads: gg, n: P, stats, maxNorm: c.maxNorm, gradScale: c.gradScale });
        const op = await prepareLion(e, { param: gp, grad: gg, n: P, stats, gradScale: c.gradScale, m });
        const ref = { p: Float32Array.from(p0), m: new Float32Array(P) };
        for (let t = 1; t <= STEPS; t++) {
          writeBuffer(e.gpu.device, gg, grads[t - 1]);
          const hp = { ...c.hp, lr: lrAt(t) };
          op.setStep(t, hp);
          run(e, norm, op);
          lionStep(ref.p, refGrad(grads[t - 1], c.gradScale ?? 1, c.maxNorm), ref.m, hp);
        }
        expect(mismatches(await read(e, gp, P), ref.p, ATOL, RTOL), `P=${P} param`).toBeNull();
        expect(mismatches(await read(e, m, P), ref.m, ATOL, RTOL), `P=${P} m`).toBeNull();
        op.destroy();
        norm.destroy();
      }
    });
  }

  it(`Sophia: ${STEPS} steps with a Hessian estimate after steps 2 and 4 (its count B read on the GPU), P = ${SIZES.join(', ')}`, async () => {
    const base: Omit<SophiaParams, 'lr'> = { beta1: 0.965, beta2: 0.99, rho: 0.04, weightDecay: 0.1 };
    for (const P of SIZES) {
      const p0 = rand(P, P + 5, 1);
      const grads = Array.from({ length: STEPS }, (_, t) => rand(P, 70 * P + t, 0.1));
      const gHats = Array.from({ length: STEPS }, (_, t) => rand(P, 90 * P + t, 0.02));
      const B = 37;
      const [gp, gg, m, h, stats, ce] = await Promise.all([
        upload(e, p0, 'param', 'lora'), upload(e, new Float32Array(P), 'grad', 'grads'), upload(e, new Float32Array(P), 'm', 'optimizer'),
        upload(e, new Float32Array(P), 'h', 'optimizer'), allocGradStats(e), upload(e, new Float32Array([2.5, B, 92.5, 0]), 'ce stats', 'workspace'),
      ]);
      const norm = await prepareGradNorm(e, { grads: gg, n: P, stats, maxNorm: 0.1, gradScale: 0.5 });
      const op = await prepareSophia(e, { param: gp, grad: gg, n: P, stats, gradScale: 0.5, m, h });
      const hess = await prepareSophiaHessian(e, { h, grad: gg, ceStats: ce, n: P, beta2: base.beta2 });
      const ref = { p: Float32Array.from(p0), m: new Float32Array(P), h: new Float32Array(P) };
      for (let t = 1; t <= STEPS; t++) {
        writeBuffer(e.gpu.device, gg, grads[t - 1]);
        const hp = { ...base, lr: lrAt(t) };
        op.setStep(t, hp);
        run(e, norm, op);
        sophiaStep(ref.p, refGrad(grads[t - 1], 0.5, 0.1), ref.m, ref.h, hp);
        if (t % 2 === 0) {
          writeBuffer(e.gpu.device, gg, gHats[t - 1]);
          run(e, hess);
          sophiaHessianUpdate(ref.h, gHats[t - 1], B, base.beta2);
        }
      }
      expect(mismatches(await read(e, gp, P), ref.p, ATOL, RTOL), `P=${P} param`).toBeNull();
      expect(mismatches(await read(e, m, P), ref.m, ATOL, RTOL), `P=${P} m`).toBeNull();
      expect(mismatches(await read(e, h, P), ref.h, 1e-12, RTOL), `P=${P} h`).toBeNull();
      // the Hessian does precondition: some coordinates move by less than the full lr in the last step
      expect(ref.h.some((x) => x > 0)).toBe(true);
      op.destroy();
      hess.destroy();
      norm.destroy();
    }
  });

  it('Sophia before any Hessian estimate steps by lr * sign(m); Lion steps by lr * sign, sign(0) = 0', () => {
    const p = Float32Array.from([1, 1, 1]);
    sophiaStep(p, Float32Array.from([0.5, -0.001, 0]), new Float32Array(3), new Float32Array(3), { lr: 0.1, beta1: 0.9, beta2: 0.99, rho: 0.04, weightDecay: 0 });
    expect(Array.from(p).map((x) => +x.toFixed(6))).toEqual([0.9, 1.1, 1]);
    const q = Float32Array.from([1, 1, 1]);
    lionStep(q, Float32Array.from([3, -1e-6, 0]), new Float32Array(3), { lr: 0.01, beta1: 0.9, beta2: 0.99, weightDecay: 0.5 });
    expect(Array.from(q).map((x) => +x.toFixed(6))).toEqual([0.985, 1.005, 0.995]);
  });
});
