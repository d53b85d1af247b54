import type { FloatArray } from '../../src/reference/types';

/** Seeded uniform [0, 1) generator (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Float64Array of n values uniform in [-scale, scale). */
export function randArray(rand: () => number, n: number, scale = 1): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}

export interface CloseReport {
  maxAbs: number;
  /** Worst |got - want| / (atol + rtol*|want|): <= 1 passes. */
  worstRatio: number;
}

/**
 * Elementwise |got - want| <= atol + rtol * |want|; throws with the first mismatches
 * (index, got, want) so a failing kernel or op can be located.
 */
export function expectClose(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): CloseReport {
  if (got.length !== want.length) throw new Error(`${name}: length ${got.length}, want ${want.length}`);
  const bad: string[] = [];
  let nBad = 0;
  let maxAbs = 0;
  let worstRatio = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const tol = atol + rtol * Math.abs(want[i]);
    maxAbs = Math.max(maxAbs, err);
    worstRatio = Math.max(worstRatio, err / tol);
    if (!(err <= tol)) {
      nBad++;
      if (bad.length < 8) bad.push(`  [${i}] got ${got[i]}, want ${want[i]} (|diff| ${err.toExponential(2)})`);
    }
  }
  if (nBad > 0) {
    throw new Error(`${name}: ${nBad}/${want.length} mismatches (atol ${atol}, rtol ${rtol}); first:\n${bad.join('\n')}`);
  }
  return { maxAbs, worstRatio };
}

/** `count` distinct indices in [0, n) (all of them when n <= count). */
export function sampleIndices(rand: () => number, n: number, count: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (n <= count) return all;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, count);
}

/**
 * Central differences of a scalar function with respect to entries of x (perturbed in place and
 * restored): (f(x + h e_i) - f(x - h e_i)) / 2h.
 */
export function finiteDiff(f: () => number, x: FloatArray, indices: number[], h = 1e-6): Float64Array {
  const out = new Float64Array(indices.length);
  indices.forEach((i, k) => {
    const x0 = x[i];
    x[i] = x0 + h;
    const fp = f();
    x[i] = x0 - h;
    const fm = f();
    x[i] = x0;
    out[k] = (fp - fm) / (2 * h);
  });
  return out;
}

/**
 * Checks an analytic gradient against central differences on the given indices:
 * |analytic - fd| <= atol + rtol * max(|analytic|, |fd|). Returns the worst relative error
 * |analytic - fd| / max(|analytic|, |fd|) over entries whose gradient is above atol / rtol
 * (for smaller ones only the absolute bound means anything).
 */
export function expectGradMatchesFd(
  name: string, f: () => number, x: FloatArray, analytic: ArrayLike<number>, indices: number[],
  { h = 1e-6, atol = 1e-9, rtol = 1e-5 } = {},
): number {
  const fd = finiteDiff(f, x, indices, h);
  let worst = 0;
  const bad: string[] = [];
  indices.forEach((i, k) => {
    const err = Math.abs(analytic[i] - fd[k]);
    const scale = Math.max(Math.abs(analytic[i]), Math.abs(fd[k]));
    if (scale > atol / rtol) worst = Math.max(worst, err / scale);
    if (!(err <= atol + rtol * scale) && bad.length < 8) bad.push(`  [${i}] analytic ${analytic[i]}, fd ${fd[k]}`);
  });
  if (bad.length) throw new Error(`${name}: gradient differs from finite differences; first:\n${bad.join('\n')}`);
  return worst;
}

/** Sum of out * R for a fixed random R: a scalar whose gradient w.r.t. out is R. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
