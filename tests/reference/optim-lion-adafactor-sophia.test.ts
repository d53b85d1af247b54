/**
 * The CPU references of Lion, Adafactor and Sophia against their sources, re-derived here by hand:
 * lucidrains/lion-pytorch `update_fn`, transformers' `Adafactor.step` (relative_step=False) and
 * Liuhong99/Sophia's `SophiaG` with `update_hessian`.
 */
import { describe, expect, it } from 'vitest';
import { adafactorStateLength, adafactorStep, type AdafactorParams } from '../../src/reference/adafactor';
import { lionStep } from '../../src/reference/lion';
import { SOPHIA_EPS, sophiaHessianUpdate, sophiaStep } from '../../src/reference/sophia';

const F64 = (a: number[]) => Float64Array.from(a);
const close = (got: ArrayLike<number>, want: number[], digits = 9) => want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, digits));

describe('Lion as lion-pytorch update_fn', () => {
  it('three steps on scalars: decay, sign of the interpolation, then the momentum update', () => {
    const hp = { lr: 0.01, beta1: 0.9, beta2: 0.99, weightDecay: 0.5 };
    const grads = [[0.3, -0.2], [-0.1, -0.05], [0.2, 0.5]];
    const p = F64([1, -2]);
    const m = F64([0, 0]);
    const want = [1, -2];
    const mm = [0, 0];
    for (const g of grads) {
      lionStep(p, F64(g), m, hp);
      for (let i = 0; i < 2; i++) {
        want[i] = want[i] * (1 - hp.lr * hp.weightDecay) - hp.lr * Math.sign(hp.beta1 * mm[i] + (1 - hp.beta1) * g[i]);
        mm[i] = hp.beta2 * mm[i] + (1 - hp.beta2) * g[i];
      }
    }
    close(p, want, 12);
    close(m, mm, 12);
    // coordinate 0: at step 2 the gradient's share (-0.1 x 0.1) outweighs the momentum's (0.003 x 0.9): the sign flips
    expect(p[0]).toBeCloseTo(((1 * 0.995 - 0.01) * 0.995 + 0.01) * 0.995 - 0.01, 12);
  });
});

describe('Adafactor as transformers\' Adafactor (relative_step=False)', () => {
  const hp: AdafactorParams = { lr: 0.1, eps1: 1e-30, eps2: 1e-3, clipThreshold: 1, decayRate: -0.8, beta1: null, weightDecay: 0, scaleParameter: false };

  it('a 2 x 2 tensor, step 1, worked by hand: R = [2.5, 12.5], C = [5, 10], u = g rsqrt(R / mean R) rsqrt(C)', () => {
    const p = F64([0, 0, 0, 0]);
    const sq = new Float64Array(adafactorStateLength([2, 2]));
    adafactorStep(p, F64([1, 2, 3, 4]), [2, 2], sq, null, 1, hp);
    close(sq, [2.5, 12.5, 5, 10]);
    const r = [1 / Math.sqrt(2.5 / 7.5), 1 / Math.sqrt(12.5 / 7.5)];
    const c = [1 / Math.sqrt(5), 1 / Math.sqrt(10)];
    const u = [1 * r[0] * c[0], 2 * r[0] * c[1], 3 * r[1] * c[0], 4 * r[1] * c[1]];
    // RMS(u) = sqrt(0.96) < 1: no update clipping
    expect(Math.sqrt(u.reduce((s, x) => s + x * x, 0) / 4)).toBeCloseTo(Math.sqrt(0.96), 12);
    close(p, u.map((x) => -0.1 * x));
  });

  it('step 2 decays with beta2 = 1 - 2^-0.8; a 1-D tensor keeps one value per element; clipping scales the update to the threshold', () => {
    const sq = F64([0, 0]);
    const p = F64([1, 1]);
    adafactorStep(p, F64([3, -4]), [2], sq, null, 1, hp);
    close(p, [0.9, 1.1]); // u = g / |g|, RMS 1: no clipping
    adafactorStep(p, F64([1, 0]), [2], sq, null, 2, hp);
    const b = 1 - 2 ** -0.8;
    const v = [b * 9 + (1 - b) * 1, b * 16 + (1 - b) * 1e-30];
    close(sq, v);
    const u = [1 / Math.sqrt(v[0]), 0];
    const rms = Math.sqrt((u[0] ** 2) / 2);
    close(p, [0.9 - 0.1 * u[0] / Math.max(1, rms), 1.1]);
    // a threshold of 0.1 scales the first step's update (RMS 1) to RMS 0.1
    const q = F64([1, 1]);
    adafactorStep(q, F64([3, -4]), [2], F64([0, 0]), null, 1, { ...hp, clipThreshold: 0.1 });
    close(q, [0.99, 1.01]);
  });

  it('beta1 keeps the EMA of the scaled update; weight decay and the parameter scale use lr x max(eps2, RMS(p))', () => {
    const p = F64([3, -4]);
    const m = F64([0, 0]);
    const h = { ...hp, beta1: 0.9, weightDecay: 0.2, scaleParameter: true };
    adafactorStep(p, F64([3, -4]), [2], F64([0, 0]), m, 1, h);
    const lrT = 0.1 * Math.sqrt((9 + 16) / 2); // RMS(p) = 3.5355
    close(m, [0.1 * lrT, -0.1 * lrT]);
    close(p, [3 - 0.2 * lrT * 3 - 0.1 * lrT, -4 + 0.2 * lrT * 4 + 0.1 * lrT]);
    expect(() => adafactorStep(p, F64([1, 1]), [2], F64([0, 0]), null, 2, h)).toThrow(/first moment/);
    expect(() => adafactorStep(p, F64([1, 1]), [2, 1, 1], F64([0, 0]), m, 2, h)).toThrow(/1-D or 2-D/);
  });
});

describe('SophiaG as Liuhong99/Sophia', () => {
  it('h = B g_hat^2 folded in here equals sophia.py keeping g_hat^2 and multiplying by bs in the step', () => {
    const hp = { lr: 0.01, beta1: 0.965, beta2: 0.99, rho: 0.04, weightDecay: 0.1 };
    const B = 480;
    const grads = [[0.2, -0.01, 0.003], [0.1, 0.02, -0.004], [-0.05, 0.015, 0.001], [0.07, -0.02, 0.002]];
    const gHat = [0.01, 0.002, 0.05];
    const p = F64([1, 1, 1]);
    const m = F64([0, 0, 0]);
    const h = F64([0, 0, 0]);
    // sophia.py: hess = beta2 hess + (1 - beta2) g g (update_hessian), ratio = |m| / (rho bs hess + 1e-15) clamped to 1
    const q = [1, 1, 1], mq = [0, 0, 0], hess = [0, 0, 0];
    grads.forEach((g, t) => {
      sophiaStep(p, F64(g), m, h, hp);
      for (let i = 0; i < 3; i++) {
        q[i] *= 1 - hp.lr * hp.weightDecay;
        mq[i] = hp.beta1 * mq[i] + (1 - hp.beta1) * g[i];
        q[i] -= hp.lr * Math.sign(mq[i]) * Math.min(Math.abs(mq[i]) / (hp.rho * B * hess[i] + 1e-15), 1);
      }
      if (t === 1) {
        sophiaHessianUpdate(h, F64(gHat), B, hp.beta2);
        for (let i = 0; i < 3; i++) hess[i] = hp.beta2 * hess[i] + (1 - hp.beta2) * gHat[i] * gHat[i];
      }
    });
    close(p, q, 12);
    close(m, mq, 12);
    close(h, hess.map((x) => B * x), 15);
    // after the estimate, the first coordinate is clipped (full lr) and the third is not
    expect(Math.abs(mq[0]) / (hp.rho * B * hess[0])).toBeGreaterThan(1);
    expect(Math.abs(mq[2]) / (hp.rho * B * hess[2])).toBeLessThan(1);
    expect(SOPHIA_EPS).toBe(1e-15);
  });
});
