import { describe, expect, it } from 'vitest';
import { argmax, candidates, checkSampling, sampleToken } from '../../src/model/generate/sampling';
import { Prng } from '../../src/core/rng';

const logitsOf = (probs: number[]) => probs.map((p) => Math.log(p));
const close = (a: ArrayLike<number>, b: number[]) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++) expect(a[i]).toBeCloseTo(b[i], 12);
};

describe('sampling on the CPU', () => {
  it('greedy is the first index of the largest logit; NaN never wins', () => {
    expect(argmax([0.1, 3, -1, 3])).toBe(1);
    expect(argmax([NaN, -5, -7])).toBe(1);
    expect(sampleToken([1, 5, 2], { temperature: 0, topK: 2, topP: 0.1 }, new Prng(1, 0))).toBe(1);
  });

  it('top-p keeps the most probable tokens until their mass reaches p, then renormalises', () => {
    // probabilities 0.05 (id 0), 0.4 (id 1), 0.1 (id 2), 0.25 (id 3), 0.2 (id 4)
    const l = logitsOf([0.05, 0.4, 0.1, 0.25, 0.2]);
    // p = 0.5: 0.4 then 0.25 (mass before 0.25 is 0.4 < 0.5); 0.2 goes (mass before it 0.65 >= 0.5)
    let c = candidates(l, { temperature: 1, topP: 0.5 });
    expect([...c.ids]).toEqual([1, 3]);
    close(c.probs, [0.4 / 0.65, 0.25 / 0.65]);
    // p = 0.65 exactly: the mass before 0.2 is 0.65, not < 0.65, so 0.2 goes (HF: cumsum <= 1 - p is removed)
    c = candidates(l, { temperature: 1, topP: 0.65 });
    expect([...c.ids]).toEqual([1, 3]);
    // p = 0.66 keeps 0.2 as well
    c = candidates(l, { temperature: 1, topP: 0.66 });
    expect([...c.ids]).toEqual([1, 3, 4]);
    // a tiny p keeps the most probable token only
    c = candidates(l, { temperature: 1, topP: 1e-6 });
    expect([...c.ids]).toEqual([1]);
    close(c.probs, [1]);
    // p = 1 keeps everything with its probability
    c = candidates(l, { temperature: 1, topP: 1 });
    expect([...c.ids]).toEqual([0, 1, 2, 3, 4]);
    close(c.probs, [0.05, 0.4, 0.1, 0.25, 0.2]);
  });

  it('top-k keeps the k largest logits (ties at the boundary too), then top-p acts on their softmax', () => {
    const l = logitsOf([0.05, 0.4, 0.1, 0.25, 0.2]);
    let c = candidates(l, { temperature: 1, topK: 2 });
    expect([...c.ids]).toEqual([1, 3]);
    close(c.probs, [0.4 / 0.65, 0.25 / 0.65]);
    c = candidates([1, 2, 2, 0], { temperature: 1, topK: 1 });
    expect([...c.ids]).toEqual([1, 2]);
    // top-k 3 -> {0.4, 0.25, 0.2} renormalised to {0.47, 0.29, 0.24}; top-p 0.7 then keeps 0.47 and 0.29
    c = candidates(l, { temperature: 1, topK: 3, topP: 0.7 });
    expect([...c.ids]).toEqual([1, 3]);
  });

  it('temperature divides the logits before the softmax', () => {
    const l = [0, Math.log(3)]; // probabilities 1/4, 3/4 at T = 1
    close(candidates(l, { temperature: 1 }).probs, [0.25, 0.75]);
    close(candidates(l, { temperature: 2 }).probs, [1 / (1 + Math.sqrt(3)), Math.sqrt(3) / (1 + Math.sqrt(3))]);
  });

  it('draws follow the distribution and repeat with the seed', () => {
    const l = logitsOf([0.1, 0.6, 0.3]);
    const draw = (seed: number, n: number) => {
      const rng = new Prng(seed, 0);
      return Array.from({ length: n }, () => sampleToken(l, { temperature: 1 }, rng));
    };
    const a = draw(3, 20000);
    expect(draw(3, 20000)).toEqual(a);
    expect(draw(4, 50)).not.toEqual(a.slice(0, 50));
    const freq = [0, 1, 2].map((id) => a.filter((x) => x === id).length / a.length);
    freq.forEach((f, i) => expect(Math.abs(f - [0.1, 0.6, 0.3][i])).toBeLessThan(0.015));
    // top-k 1 at any temperature is greedy
    const rng = new Prng(9, 0);
    for (let i = 0; i < 20; i++) expect(sampleToken(l, { temperature: 1.7, topK: 1 }, rng)).toBe(1);
  });

  it('refuses bad options with a message naming them', () => {
    expect(() => checkSampling({ temperature: -1 })).toThrow(/temperature/);
    expect(() => checkSampling({ temperature: 1, topK: 1.5 })).toThrow(/topK/);
    expect(() => checkSampling({ temperature: 1, topP: 0 })).toThrow(/topP/);
    expect(() => candidates([-Infinity, NaN], { temperature: 1 })).toThrow(/nothing can be sampled/);
  });
});
