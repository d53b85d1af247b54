/** Shared pieces of the generation tests: random LoRA parameters and the CPU reference's next-token logits. */
import type { ModelConfig } from '../../src/config/model-config';
import type { LoraLayout } from '../../src/model/plan/lora-layout';
import { argmax } from '../../src/model/generate/sampling';
import { forward, type LoraWeights } from '../../src/reference';
import { Prng } from '../../src/core/rng';

/** Random A and B (B non-zero, so the adapter changes the output) in the layout's flat buffer. */
export function randomLoraParams(layout: LoraLayout, seed: number, scale = 0.3): Float32Array<ArrayBuffer> {
  const rng = new Prng(seed, 17);
  const flat = new Float32Array(layout.length);
  for (const s of layout.slots) {
    for (let i = 0; i < s.r * s.inFeatures; i++) flat[s.offsetA + i] = scale * (2 * rng.nextFloat() - 1);
    for (let i = 0; i < s.outFeatures * s.r; i++) flat[s.offsetB + i] = scale * (2 * rng.nextFloat() - 1);
  }
  return flat;
}

/** The reference's view of a flat LoRA buffer. */
export function loraWeightsOf(layout: LoraLayout, flat: Float32Array): LoraWeights {
  return new Map(layout.slots.map((s) => [s.path, {
    A: flat.slice(s.offsetA, s.offsetA + s.r * s.inFeatures), B: flat.slice(s.offsetB, s.offsetB + s.outFeatures * s.r), r: s.r, scale: s.scale,
  }]));
}

/** Logits (V) of the last position of `ids`, from the CPU reference on the whole sequence. */
export function referenceNextLogits(config: ModelConfig, weights: Map<string, Float32Array>, lora: LoraWeights, ids: readonly number[]): Float32Array {
  const T = ids.length;
  const V = config.vocabSize;
  const { logits } = forward({ config, weights }, lora, Int32Array.from(ids), new Int32Array(T).fill(-100), 1, T);
  return Float32Array.from(logits.subarray((T - 1) * V, T * V));
}

/** Greedy decoding with the CPU reference. */
export function referenceGreedy(config: ModelConfig, weights: Map<string, Float32Array>, lora: LoraWeights, prompt: readonly number[], n: number): number[] {
  const ids = [...prompt];
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const next = argmax(referenceNextLogits(config, weights, lora, ids));
    out.push(next);
    ids.push(next);
  }
  return out;
}

/** Deterministic token ids in [1, V). */
export function promptIds(V: number, n: number, seed: number): number[] {
  const rng = new Prng(seed, 3);
  return Array.from({ length: n }, () => 1 + rng.nextInt(V - 1));
}
