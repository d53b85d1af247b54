import { randU32, sampledLabelStream } from '../../core/rng';
import { checkLen, type FloatArray } from '../types';

/**
 * The Gumbel noise of vocabulary entry v in row n at optimizer step `step` under `seed`:
 * G = -log(-log(u)), u = ((randU32(seed, sampledLabelStream(step, n), v) >>> 9) + 0.5) 2^-23: 23 bits
 * and a half, exact in f32, strictly inside (0, 1), so G is always finite.
 */
export function gumbelNoise(seed: number, step: number, n: number, v: number): number {
  const u = ((randU32(seed, sampledLabelStream(step, n), v) >>> 9) + 0.5) * 2 ** -23;
  return -Math.log(-Math.log(u));
}

/**
 * Labels sampled from the model's own softmax, one per row, for Sophia's Gauss-Newton-Bartlett
 * Hessian estimate (Liu et al. 2023; train_sophiag.py draws torch.distributions.Categorical(logits)):
 * by the Gumbel-max trick, label_n = argmax_v (logits[n, v] + G(n, v)) with the lowest v on ties,
 * which is a draw from softmax(logits[n]). The draws are those of shaders/sample_labels.wgsl.
 * Rows whose target is ignored (-100, or outside [0, V)) keep it, so the sampled loss counts the
 * same rows as the real one.
 * logits (N, V) as the loss reads them (after any final softcap); targets (N) -> labels (N)
 */
export function sampleLabels(logits: FloatArray, targets: Int32Array, N: number, V: number, seed: number, step: number): Int32Array {
  checkLen('sampleLabels logits', logits, N * V);
  checkLen('sampleLabels targets', targets, N);
  const out = Int32Array.from(targets);
  for (let n = 0; n < N; n++) {
    if (!(targets[n] >= 0 && targets[n] < V)) continue;
    let best = -Infinity;
    let arg = 0;
    for (let v = 0; v < V; v++) {
      const s = logits[n * V + v] + gumbelNoise(seed, step, n, v);
      if (s > best) {
        best = s;
        arg = v;
      }
    }
    out[n] = arg;
  }
  return out;
}
