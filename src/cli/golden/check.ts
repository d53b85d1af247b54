import { compareArrays, compareNormwise, type Comparison } from './compare';
import { adapterKey, tensorKinds, type GoldenCase } from './golden-case';
import type { GoldenResult } from './golden-engine';

/** Tolerances from the golden README: what a correct float32 implementation meets. */
export const GOLDEN_TOLERANCE = {
  values: { atol: 1e-4, rtol: 1e-4 }, // logits, losses, parameters after AdamW
  grads: { atol: 1e-4, rtol: 1e-3 },
};

/** |got - want| <= atol + rtol |want|; with `ofMaxAbs`, atol is a fraction of the reference's largest |value|. */
export interface Tolerance {
  atol: number;
  rtol: number;
  ofMaxAbs?: boolean;
}

/** A tolerance per kind of result. */
export interface GoldenTolerances {
  logits: Tolerance;
  losses: Tolerance; // before and after the AdamW step
  grads: Tolerance;
  params: Tolerance; // after the AdamW step, beyond what the two gradients explain (see compareAdamwStep)
}

export const GOLDEN_TOLERANCES: GoldenTolerances = {
  logits: GOLDEN_TOLERANCE.values, losses: GOLDEN_TOLERANCE.values, grads: GOLDEN_TOLERANCE.grads, params: GOLDEN_TOLERANCE.values,
};

/**
 * bf16 activations against an f32 result (issue 12): the losses within 1e-2 relative, the logits,
 * every gradient and every parameter after AdamW within 2e-2 of the tensor's largest magnitude
 * (parameters: beyond what the two gradients explain, see compareAdamwStep).
 */
export const BF16_VS_F32_TOLERANCES: GoldenTolerances = {
  logits: { atol: 2e-2, rtol: 0, ofMaxAbs: true },
  losses: { atol: 0, rtol: 1e-2 },
  grads: { atol: 2e-2, rtol: 0, ofMaxAbs: true },
  params: { atol: 2e-2, rtol: 0, ofMaxAbs: true },
};


/**
 * bf16 activations, an engine against the CPU reference in the same mode. Elementwise agreement is
 * not a sound criterion there: where a value lies within a few f32 ulps of a bf16 rounding boundary,
 * the two sides (summing in different orders) may round it to neighbouring bf16 values, and that one
 * ulp propagates (measured on the golden cases: up to a tenth of the whole bf16 effect on one
 * gradient tensor). So each tensor must be close against the whole effect of bf16 activations
 * (compareNormwise): |got - ref| <= 25% of |ref - ref in f32| + 1e-4 |ref| (+ 1e-7 per element).
 * A reference that missed one rounding point, or a GPU that read one activation unrounded, moves
 * the tensors that read it by about their whole effect. The losses also get the golden tolerance;
 * the parameters after AdamW are compared elementwise (compareAdamwStep).
 */
export const BF16_SAME_MODE_FRACTION = 0.25;

/** The tolerances of the same-mode comparison: norm-relative for tensors (see BF16_SAME_MODE_FRACTION). */
export const BF16_SAME_MODE_TOLERANCES: GoldenTolerances = {
  logits: { atol: 1e-7, rtol: 1e-4 },
  losses: GOLDEN_TOLERANCE.values,
  grads: { atol: 1e-7, rtol: 1e-4 },
  params: GOLDEN_TOLERANCE.values,
};

/** The case's PyTorch results in the shape an engine returns. */
export async function expectedResult(c: GoldenCase): Promise<GoldenResult> {
  const grads = new Map<string, Float32Array>();
  const afterAdamw = new Map<string, Float32Array>();
  for (const t of c.adapter.tensors) {
    for (const which of tensorKinds(t)) {
      const key = adapterKey(t.path, which);
      grads.set(key, await c.expected.readF32(`${key}.grad`));
      afterAdamw.set(key, await c.expected.readF32(`${key}.after_adamw_1`));
    }
  }
  return { logits: await c.expected.readF32('logits'), loss: c.loss, grads, afterAdamw, lossAfterAdamw: c.lossAfterAdamw };
}

/**
 * Every comparison of `got` against `want` (the tensors of the case's adapter), in a stable order:
 * elementwise under `tol`, or with `normwise` whole tensors against the effect `want - base` (then
 * `ofMaxAbs` is not used); the parameters after AdamW always elementwise.
 */
export function compareResults(
  c: GoldenCase, got: GoldenResult, want: GoldenResult, tol: GoldenTolerances, normwise?: { base: GoldenResult; fraction: number },
): Comparison[] {
  const elementwise = (name: string, g: ArrayLike<number>, w: ArrayLike<number>, t: Tolerance): Comparison =>
    compareArrays(name, g, w, t.atol * (t.ofMaxAbs ? maxAbs(w) : 1), t.rtol);
  const compare = (name: string, g: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | undefined, t: Tolerance): Comparison =>
    normwise ? compareNormwise(name, g, w, b ?? [], normwise.fraction, t.atol, t.rtol) : elementwise(name, g, w, t);
  const base = normwise?.base;
  const out: Comparison[] = [
    compare('logits', got.logits, want.logits, base?.logits, tol.logits),
    compare('loss', [got.loss], [want.loss], base && [base.loss], tol.losses),
  ];
  const each = (suffix: string, of: (r: GoldenResult) => Map<string, Float32Array>, t: Tolerance) => {
    for (const a of c.adapter.tensors) {
      for (const which of tensorKinds(a)) {
        const key = adapterKey(a.path, which);
        out.push(compare(`${key}.${suffix}`, of(got).get(key) ?? [], of(want).get(key) ?? [], base && of(base).get(key), t));
      }
    }
  };
  each('grad', (r) => r.grads, tol.grads);
  for (const a of c.adapter.tensors) {
    for (const which of tensorKinds(a)) {
      const key = adapterKey(a.path, which);
      const name = `${key}.after_adamw_1`;
      const [g, w] = [got.afterAdamw.get(key) ?? [], want.afterAdamw.get(key) ?? []];
      const [gg, wg] = [got.grads.get(key), want.grads.get(key)];
      out.push(gg && wg
        ? compareAdamwStep(name, g, w, gg, wg, c.adamw, tol.params.atol * (tol.params.ofMaxAbs ? maxAbs(w) : 1), tol.params.rtol)
        : elementwise(name, g, w, tol.params));
    }
  }
  out.push(compare('loss_after_adamw_1', [got.lossAfterAdamw], [want.lossAfterAdamw], base && [base.lossAfterAdamw], tol.losses));
  return out;
}

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

/**
 * Parameters after a first AdamW step, elementwise. That step moves each element by lr * u(g) with
 * u(g) = g / (|g| + eps) (bias-corrected m = g and sqrt(v) = |g|), besides the decay both sides
 * share. Near |g| ~ eps, u is steep: two gradients that agree within the gradient tolerance (checked
 * on their own) may move an element differently, by up to 2 lr where their signs differ, and at real
 * shapes a few of thousands of elements have such gradients. So an element may differ by
 * lr |u(got grad) - u(want grad)| beyond the tolerance: the step's arithmetic is still checked given
 * each side's own gradient, and a wrong step anywhere else fails. The note counts those elements.
 */
export function compareAdamwStep(
  name: string, got: ArrayLike<number>, want: ArrayLike<number>, gotGrad: ArrayLike<number>, wantGrad: ArrayLike<number>,
  adamw: { lr: number; eps: number }, atol: number, rtol: number,
): Comparison {
  const c = compareArrays(name, got, want, atol, rtol);
  if (c.ok || got.length !== want.length || gotGrad.length !== want.length || wantGrad.length !== want.length) return c;
  const u = (g: number) => g / (Math.abs(g) + adamw.eps);
  let explained = 0;
  const firstBad: Comparison['firstBad'] = [];
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const tol = atol + rtol * Math.abs(want[i]);
    if (err <= tol) continue;
    if (err <= adamw.lr * Math.abs(u(gotGrad[i]) - u(wantGrad[i])) * (1 + 1e-3) + tol) explained++;
    else if (firstBad.length < 5) firstBad.push({ index: i, got: got[i], want: want[i] });
  }
  const bad = c.bad - explained;
  return { ...c, bad, firstBad, ok: bad === 0, note: `${explained} element(s) off by what their two gradients explain (lr |u(g_got) - u(g_want)|)` };
}

/** Every comparison of a golden result against the case's expected tensors, in a stable order. */
export async function checkGolden(c: GoldenCase, r: GoldenResult, tol: GoldenTolerances = GOLDEN_TOLERANCES): Promise<Comparison[]> {
  return compareResults(c, r, await expectedResult(c), tol);
}
