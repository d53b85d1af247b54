/** How far a computed tensor is from its reference, under `|got - want| <= atol + rtol * |want|`. */
export interface Comparison {
  name: string;
  n: number;
  maxAbs: number;
  /** max |got - want| / |want| over elements with |want| > atol (relative error is noise below it). */
  maxRel: number;
  /** Elements outside the tolerance, and the first few of them. */
  bad: number;
  firstBad: { index: number; got: number; want: number }[];
  ok: boolean;
  /** How `ok` was decided when not elementwise (compareNormwise). */
  note?: string;
}

export function compareArrays(name: string, got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number): Comparison {
  if (got.length !== want.length) {
    return { name, n: want.length, maxAbs: Infinity, maxRel: Infinity, bad: want.length, firstBad: [], ok: false };
  }
  let maxAbs = 0;
  let maxRel = 0;
  let bad = 0;
  const firstBad: Comparison['firstBad'] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const err = Math.abs(g - w);
    if (!(err <= atol + rtol * Math.abs(w))) {
      bad++;
      if (firstBad.length < 5) firstBad.push({ index: i, got: g, want: w });
    }
    if (!(err <= maxAbs)) maxAbs = Number.isNaN(err) ? Infinity : err;
    if (Math.abs(w) > atol) maxRel = Math.max(maxRel, Number.isNaN(err) ? Infinity : err / Math.abs(w));
  }
  return { name, n: want.length, maxAbs, maxRel, bad, firstBad, ok: bad === 0 };
}

/**
 * A whole-tensor check, with Euclidean norms over all elements:
 *   |got - want| <= fraction |want - base| + rtol |want| + atol sqrt(n).
 * For results that may differ from `want` in a few elements by a known kind of noise (bf16
 * rounding ties, see src/cli/golden/check.ts), judged against the size of a known effect
 * (`want - base`); the element counts stay those of the elementwise tolerance, for the report.
 */
export function compareNormwise(
  name: string, got: ArrayLike<number>, want: ArrayLike<number>, base: ArrayLike<number>, fraction: number, atol: number, rtol: number,
): Comparison {
  const c = compareArrays(name, got, want, atol, rtol);
  if (got.length !== want.length || base.length !== want.length) return { ...c, ok: false };
  let diff = 0;
  let effect = 0;
  let size = 0;
  for (let i = 0; i < want.length; i++) {
    diff += (got[i] - want[i]) ** 2;
    effect += (want[i] - base[i]) ** 2;
    size += want[i] ** 2;
  }
  const allowed = fraction * Math.sqrt(effect) + rtol * Math.sqrt(size) + atol * Math.sqrt(want.length);
  const ok = Math.sqrt(diff) <= allowed; // NaN fails
  return { ...c, ok, note: `|diff| ${Math.sqrt(diff).toExponential(2)} vs allowed ${allowed.toExponential(2)} (${fraction} x |effect| ${Math.sqrt(effect).toExponential(2)} + tolerance)` };
}

export function formatComparison(c: Comparison): string {
  const status = c.ok ? 'ok  ' : 'FAIL';
  const line = `${status} ${c.name.padEnd(72)} n=${String(c.n).padStart(6)}  max abs ${c.maxAbs.toExponential(2)}  max rel ${c.maxRel.toExponential(2)}` +
    (c.note ? `  ${c.note}` : '');
  if (c.ok) return line;
  const firsts = c.firstBad.map((b) => `[${b.index}] got ${b.got} want ${b.want}`).join('; ');
  return `${line}\n     ${c.bad} element(s) outside tolerance; first: ${firsts}`;
}
