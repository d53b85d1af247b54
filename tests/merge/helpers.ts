/** Shared pieces of the merge tests: a Hugging Face config.json for a ModelConfig, random PEFT adapters, naive deltas. */
import type { ModelConfig } from '../../src/config/model-config';
import { MODULE_NAMES, modulePath, moduleShape, type ModuleName } from '../../src/config/lora-targets';
import { loraScaling } from '../../src/config/lora-config';
import type { PeftAdapter } from '../../src/io/peft';
import { Prng } from '../../src/core/rng';
import type { LoraWeights } from '../../src/reference';

export function hfConfig(c: ModelConfig, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: [c.attentionBias ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    model_type: c.attentionBias ? 'qwen2' : 'llama',
    vocab_size: c.vocabSize, hidden_size: c.hiddenSize, intermediate_size: c.intermediateSize, num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads, num_key_value_heads: c.numKvHeads, head_dim: c.headDim, rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta, max_position_embeddings: c.maxPositionEmbeddings, tie_word_embeddings: c.tieWordEmbeddings,
    torch_dtype: 'float32', ...extra,
  };
}

/** A PEFT adapter with random A and B (B non-zero) on `modules` in every layer (or `layers`). */
export function randomAdapter(
  c: ModelConfig, modules: readonly ModuleName[], r: number, alpha: number, seed: number, opts: { useRslora?: boolean; layers?: number[]; scale?: number } = {},
): PeftAdapter {
  const rng = new Prng(seed, 23);
  const rand = (n: number) => Float32Array.from({ length: n }, () => (opts.scale ?? 0.2) * (2 * rng.nextFloat() - 1));
  const layers = opts.layers ?? Array.from({ length: c.numLayers }, (_, i) => i);
  const tensors: PeftAdapter['tensors'] = [];
  for (const module of MODULE_NAMES.filter((m) => modules.includes(m))) {
    for (const layer of module === 'lm_head' ? [null] : layers) {
      const s = moduleShape(module, c);
      tensors.push({ path: modulePath(module, layer ?? 0), module, layer, r, alpha, inFeatures: s.in, outFeatures: s.out, A: rand(r * s.in), B: rand(s.out * r) });
    }
  }
  return {
    config: { r, alpha, dropout: 0, useRslora: !!opts.useRslora, targetModules: [...modules], rankPattern: {}, alphaPattern: {} },
    baseModel: 'tiny', tensors,
  };
}

/** The reference's LoRA map of an adapter, each scale multiplied by `weight`. */
export function loraOf(a: PeftAdapter, weight = 1): LoraWeights {
  return new Map(a.tensors.map((t) => [t.path, { A: t.A, B: t.B, r: t.r, scale: weight * loraScaling(t.r, t.alpha, a.config.useRslora) }]));
}

/** W + sum coef B A, naively in float64. */
export function naiveMerge(W: Float32Array, out: number, inF: number, terms: { A: Float32Array; B: Float32Array; r: number; coef: number }[]): Float64Array {
  const m = Float64Array.from(W);
  for (const { A, B, r, coef } of terms) {
    for (let o = 0; o < out; o++) for (let i = 0; i < inF; i++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += B[o * r + k] * A[k * inF + i];
      m[o * inF + i] += coef * s;
    }
  }
  return m;
}
