/**
 * Text generation on the CPU with the reference forward (the spec), for the script's report and the
 * README's examples: the whole sequence is recomputed per token, which is fine at this size.
 */
import { forward, type LoraWeights, type RefModel } from '../../src/reference';
import { Prng } from '../../src/core/rng';

export interface SampleOptions {
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  stopId: number;
  seed: number;
}

/** New token ids after `prompt` (the stop token is not included). */
export function generate(model: RefModel, lora: LoraWeights, prompt: readonly number[], o: SampleOptions): number[] {
  const V = model.config.vocabSize;
  const limit = model.config.maxPositionEmbeddings;
  const rng = new Prng(o.seed, 77);
  const ids = [...prompt];
  const out: number[] = [];
  while (out.length < o.maxTokens && ids.length < limit) {
    const T = ids.length;
    const { logits } = forward(model, lora, Int32Array.from(ids), new Int32Array(T).fill(-100), 1, T);
    const row = logits.subarray((T - 1) * V, T * V);
    let next = 0;
    if (o.temperature <= 0) {
      for (let v = 1; v < V; v++) if (row[v] > row[next]) next = v;
    } else {
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, row[v]);
      const p = Array.from(row, (x) => Math.exp((x - max) / o.temperature));
      let u = rng.nextDouble() * p.reduce((a, b) => a + b, 0);
      while (next < V - 1 && (u -= p[next]) > 0) next++;
    }
    if (next === o.stopId) break;
    out.push(next);
    ids.push(next);
  }
  return out;
}
