/**
 * Train/validation split by seed: a Philox shuffle of the example indices (src/core/rng.ts) picks
 * the validation examples; both parts keep the file's order. The same seed and fraction give the
 * same split on every machine.
 */
import { Prng, SPLIT_STREAM } from '../core/rng';

/** Any items (tokenized examples, or records a trainer export writes) split the same way. */
export function splitExamples<T>(examples: readonly T[], fraction: number, seed: number): { train: T[]; validation: T[] } {
  if (!(fraction >= 0 && fraction < 1)) throw new RangeError(`the validation fraction must be in [0, 1), got ${fraction}`);
  const n = examples.length;
  let nVal = Math.round(n * fraction);
  if (fraction > 0 && n >= 2) nVal = Math.min(Math.max(nVal, 1), n - 1);
  if (nVal === 0) return { train: [...examples], validation: [] };
  const order = new Prng(seed, SPLIT_STREAM).shuffle(examples.map((_, i) => i));
  const isVal = new Uint8Array(n);
  for (let k = 0; k < nVal; k++) isVal[order[k]] = 1;
  return { train: examples.filter((_, i) => !isVal[i]), validation: examples.filter((_, i) => isVal[i]) };
}
