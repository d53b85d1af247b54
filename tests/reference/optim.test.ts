import { describe, expect, it } from 'vitest';
import { adamwStep, sgdStep, type AdamWParams, type SgdParams } from '../../src/reference/optim';
import { expectClose } from './helpers';

// Three steps on small vectors against torch's update rules, re-derived here one scalar at a time.
const p0 = [0.5, -1.25, 2, 0];
const gradsPerStep = [
  [0.1, -0.2, 0.3, 0.05],
  [-0.4, 0.1, 0.25, 0],
  [0.05, 0.6, -0.3, -0.02],
];

/** torch.optim.AdamW's _single_tensor_adamw for one scalar. */
function adamwScalar(p: number, grads: number[], hp: AdamWParams): number {
  let m = 0;
  let v = 0;
  grads.forEach((g, k) => {
    const t = k + 1;
    p = p * (1 - hp.lr * hp.weightDecay);
    m = m * hp.beta1 + g * (1 - hp.beta1);
    v = v * hp.beta2 + g * g * (1 - hp.beta2);
    const mHat = m / (1 - hp.beta1 ** t); // lr/bias1 * m  ==  lr * mHat
    const denom = Math.sqrt(v) / Math.sqrt(1 - hp.beta2 ** t) + hp.eps;
    p = p - (hp.lr * mHat) / denom;
  });
  return p;
}

/** torch.optim.SGD for one scalar: buffer = d on the first step. */
function sgdScalar(p: number, grads: number[], hp: SgdParams): number {
  let buf: number | null = null;
  for (const g of grads) {
    let d = g + hp.weightDecay * p;
    if (hp.momentum !== 0) {
      buf = buf === null ? d : hp.momentum * buf + (1 - hp.dampening) * d;
      d = hp.nesterov ? d + hp.momentum * buf : buf;
    }
    p = p - hp.lr * d;
  }
  return p;
}

describe('AdamW as torch.optim.AdamW', () => {
  const hps: AdamWParams[] = [
    { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
    { lr: 0.1, beta1: 0.8, beta2: 0.95, eps: 1e-6, weightDecay: 0.5 },
    { lr: 0.003, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0 },
  ];
  for (const hp of hps) {
    it(`3 steps, lr ${hp.lr}, betas ${hp.beta1}/${hp.beta2}, wd ${hp.weightDecay}`, () => {
      for (const Float of [Float64Array, Float32Array]) {
        const p = Float.from(p0), m = new Float(4), v = new Float(4);
        for (let t = 1; t <= 3; t++) adamwStep(p, Float.from(gradsPerStep[t - 1]), m, v, t, hp);
        const want = p0.map((x, i) => adamwScalar(x, gradsPerStep.map((g) => g[i]), hp));
        expectClose(`adamw ${Float.name}`, p, want, Float === Float64Array ? 1e-15 : 1e-7, Float === Float64Array ? 1e-13 : 1e-6);
      }
    });
  }

  it('step 1 moves by lr * g / (|g| + eps) after decoupled decay (closed form)', () => {
    const p = Float64Array.from([1]);
    adamwStep(p, Float64Array.from([0.5]), new Float64Array(1), new Float64Array(1), 1, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
    expect(p[0]).toBeCloseTo(1 * (1 - 0.1 * 0.01) - (0.1 * 0.5) / (0.5 + 1e-8), 14);
  });
});

describe('SGD as torch.optim.SGD', () => {
  const hps: SgdParams[] = [
    { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 },
    { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0 },
    { lr: 0.05, momentum: 0.8, dampening: 0, nesterov: true, weightDecay: 0.1 },
    { lr: 0.05, momentum: 0.5, dampening: 0.3, nesterov: false, weightDecay: 0.2 },
    { lr: 0.2, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.01 },
  ];
  for (const hp of hps) {
    it(`3 steps, momentum ${hp.momentum}, nesterov ${hp.nesterov}, dampening ${hp.dampening}, wd ${hp.weightDecay}`, () => {
      const p = Float64Array.from(p0), buf = new Float64Array(4);
      for (let t = 1; t <= 3; t++) sgdStep(p, Float64Array.from(gradsPerStep[t - 1]), buf, t, hp);
      const want = p0.map((x, i) => sgdScalar(x, gradsPerStep.map((g) => g[i]), hp));
      expectClose('sgd', p, want, 1e-15, 1e-13);
    });
  }

  it('hand-worked momentum and nesterov values', () => {
    const run = (nesterov: boolean) => {
      const p = Float64Array.from([1]), buf = new Float64Array(1);
      [0.5, -1, 2].forEach((g, k) => sgdStep(p, Float64Array.from([g]), buf, k + 1, { lr: 0.1, momentum: 0.9, dampening: 0, nesterov, weightDecay: 0 }));
      return p[0];
    };
    // buf: 0.5, -0.55, 1.505 -> p: 0.95, 1.005, 0.8545
    expect(run(false)).toBeCloseTo(0.8545, 14);
    // d: 0.95, -1.495, 3.3545 -> p: 0.905, 1.0545, 0.71905
    expect(run(true)).toBeCloseTo(0.71905, 14);
  });
});
