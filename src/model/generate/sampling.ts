/**
 * Choosing the next token from the last position's logits, on the CPU, in the order Hugging Face's
 * `generate` applies its warpers: temperature, then top-k, then top-p (nucleus), then a draw.
 *   temperature 0      greedy: the first index of the largest logit (torch.argmax)
 *   top-k k > 0        keep the logits >= the k-th largest (ties at the boundary are kept, as HF does)
 *   top-p p < 1        keep the most probable tokens until their mass reaches p: a token stays when
 *                      the mass of the tokens strictly more probable than it is < p (HF's rule);
 *                      the most probable token always stays
 * The draw uses a seeded Prng, so the same seed and logits give the same token.
 */
import type { Prng } from '../../core/rng';

export interface SamplingOptions {
  /** 0 = greedy. */
  temperature: number;
  /** Keep the k most likely tokens; 0 = off. */
  topK?: number;
  /** Nucleus mass in (0, 1]; 1 = off. */
  topP?: number;
}

/** Throws a RangeError naming the bad option. */
export function checkSampling(o: SamplingOptions): void {
  if (!(Number.isFinite(o.temperature) && o.temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${o.temperature}`);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0)) throw new RangeError(`topK must be an integer >= 0 (0 = off), got ${o.topK}`);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) throw new RangeError(`topP must be in (0, 1], got ${o.topP}`);
}

/** Index of the largest value (the first one on ties); NaN never wins. */
export function argmax(x: ArrayLike<number>): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < x.length; i++) {
    if (x[i] > bestValue) {
      bestValue = x[i];
      best = i;
    }
  }
  return best;
}

/** The tokens that survive temperature, top-k and top-p, with their renormalised probabilities (ascending ids). */
export interface Candidates {
  ids: Int32Array;
  probs: Float64Array;
}

export function candidates(logits: ArrayLike<number>, o: SamplingOptions): Candidates {
  checkSampling(o);
  const V = logits.length;
  if (V === 0) throw new RangeError('no logits to sample from');
  const T = o.temperature > 0 ? o.temperature : 1;
  const x = new Float64Array(V);
  for (let i = 0; i < V; i++) x[i] = Number.isNaN(logits[i]) ? -Infinity : logits[i] / T;

  // top-k: a threshold at the k-th largest value (a native sort of a copy, no index bookkeeping)
  let floor = -Infinity;
  const k = o.topK ?? 0;
  if (k > 0 && k < V) floor = Float64Array.from(x).sort()[V - k];
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (x[i] >= floor && x[i] > max) max = x[i];
  if (max === -Infinity) throw new RangeError('every logit is -Infinity or NaN; nothing can be sampled');

  // softmax over the survivors of top-k
  const p = new Float64Array(V);
  let sum = 0;
  for (let i = 0; i < V; i++) {
    if (x[i] >= floor) {
      p[i] = Math.exp(x[i] - max);
      sum += p[i];
    }
  }
  for (let i = 0; i < V; i++) p[i] /= sum;

  // top-p: walk the probabilities in descending order until the mass before the next one reaches p
  let pFloor = 0;
  const topP = o.topP ?? 1;
  if (topP < 1) {
    const sorted = Float64Array.from(p).sort().reverse();
    let above = 0;
    for (const q of sorted) {
      if (q === 0 || above >= topP) break;
      pFloor = q;
      above += q;
    }
  }
  let n = 0;
  for (let i = 0; i < V; i++) if (p[i] > 0 && p[i] >= pFloor) n++;
  const ids = new Int32Array(n);
  const probs = new Float64Array(n);
  let kept = 0;
  n = 0;
  for (let i = 0; i < V; i++) {
    if (p[i] > 0 && p[i] >= pFloor) {
      ids[n] = i;
      probs[n++] = p[i];
      kept += p[i];
    }
  }
  for (let j = 0; j < n; j++) probs[j] /= kept;
  return { ids, probs };
}

/** The next token: greedy at temperature 0, else one draw from `candidates`. */
export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, rng: Prng): number {
  checkSampling(o);
  if (o.temperature === 0) return argmax(logits);
  const { ids, probs } = candidates(logits, o);
  const u = rng.nextDouble();
  let acc = 0;
  for (let j = 0; j < ids.length; j++) {
    acc += probs[j];
    if (u < acc) return ids[j];
  }
  return ids[ids.length - 1]; // u within rounding of 1
}
