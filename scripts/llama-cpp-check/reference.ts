/**
 * The project's side of the comparison: logits of the CPU reference (src/reference forward, with
 * LoRA as PEFT defines it) on the Hugging Face weights, or on the weights a GGUF holds (read back,
 * dequantized, un-permuted: what llama.cpp computes with), and the comparison itself.
 */
import type { ModelConfig } from '../../src/config/model-config';
import { fromGgufValues, ggufArchitecture, ggufTensorName, readGguf } from '../../src/io/gguf';
import { forward, type LoraWeights } from '../../src/reference';

/** Logits (T, V) of the reference for one sequence. */
export function referenceLogits(config: ModelConfig, weights: Map<string, Float32Array>, lora: LoraWeights, tokens: readonly number[]): Float32Array[] {
  const T = tokens.length;
  const V = config.vocabSize;
  const r = forward({ config, weights }, lora, Int32Array.from(tokens), new Int32Array(T).fill(-100), 1, T);
  return Array.from({ length: T }, (_, t) => Float32Array.from(r.logits.subarray(t * V, (t + 1) * V)));
}

/** The Hugging Face tensors of a model GGUF, as llama.cpp reads them (dequantized, q/k and norms undone). */
export function weightsFromGguf(bytes: Uint8Array, config: ModelConfig, hfShapes: Map<string, number[]>): Map<string, Float32Array> {
  const file = readGguf(bytes);
  const arch = ggufArchitecture(config);
  const present = new Set(file.tensors.map((t) => t.name));
  const out = new Map<string, Float32Array>();
  for (const [name, shape] of hfShapes) {
    const g = ggufTensorName(name, arch);
    if (g === null || !present.has(g)) continue;
    out.set(name, fromGgufValues(name, file.f32(g), shape, config, arch));
  }
  return out;
}

export interface Agreement {
  /** max |llama.cpp - reference| over every position and token, over the largest |reference logit| */
  relError: number;
  /** positions whose argmax (greedy token) agrees, of all */
  greedyAgree: number;
  positions: number;
  /**
   * Positions where the reference's best token leads the second by more than twice the allowed
   * error (tolerance x largest |logit|): there any implementation within tolerance picks the same
   * token, so the greedy tokens must agree; elsewhere the two best are tied within tolerance.
   */
  decisive: number;
  decisiveAgree: number;
}

export function compareLogits(got: Float32Array[], want: Float32Array[], tolerance: number): Agreement {
  let maxDiff = 0;
  let maxRef = 0;
  for (let t = 0; t < want.length; t++) {
    for (let v = 0; v < want[t].length; v++) {
      maxDiff = Math.max(maxDiff, Math.abs(got[t][v] - want[t][v]));
      maxRef = Math.max(maxRef, Math.abs(want[t][v]));
    }
  }
  let agree = 0;
  let decisive = 0;
  let decisiveAgree = 0;
  for (let t = 0; t < want.length; t++) {
    const [best, second] = topTwo(want[t]);
    const same = argmax(got[t]) === best;
    if (same) agree++;
    if (want[t][best] - want[t][second] > 2 * tolerance * maxRef) {
      decisive++;
      if (same) decisiveAgree++;
    }
  }
  return { relError: maxDiff / maxRef, greedyAgree: agree, positions: want.length, decisive, decisiveAgree };
}

const argmax = (x: Float32Array) => x.reduce((best, v, i) => (v > x[best] ? i : best), 0);

function topTwo(x: Float32Array): [number, number] {
  const best = argmax(x);
  let second = best === 0 ? 1 : 0;
  for (let i = 0; i < x.length; i++) if (i !== best && x[i] > x[second]) second = i;
  return [best, second];
}
