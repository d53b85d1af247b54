import { headNormNames, layerNormNames, type ArchitectureFeatures } from '../../src/config/architecture-features';
import type { ModelConfig } from '../../src/config/model-config';
import { MODULE_NAMES, modulePath, moduleShape } from '../../src/config/lora-targets';
import type { LoraWeights, RefModel } from '../../src/reference/index';
import type { FloatArray } from '../../src/reference/types';
import { lossAndGrads } from '../../src/reference/index';
import { expectClose, randArray, rng } from './helpers';

/** The knobs of a tiny random test model. */
export interface TinySpec {
  seed: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  vocab: number;
  layers: number;
  tied: boolean;
  bias: boolean;
  B: number;
  T: number;
  /** Architecture features (Qwen3, Gemma) on top of the Llama decoder, and the window of sliding layers. */
  features?: ArchitectureFeatures & { slidingWindow?: number; modelType?: string };
}

export function tinyConfig(s: TinySpec): ModelConfig {
  return {
    modelType: s.bias ? 'qwen2' : 'llama',
    vocabSize: s.vocab,
    hiddenSize: s.hidden,
    intermediateSize: s.ffn,
    numLayers: s.layers,
    numHeads: s.heads,
    numKvHeads: s.kvHeads,
    headDim: s.headDim,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    maxPositionEmbeddings: 64,
    tieWordEmbeddings: s.tied,
    attentionBias: s.bias,
    ...s.features,
  };
}

/**
 * A random float64 model in Hugging Face names (no lm_head.weight when tied), LoRA on all eight
 * modules with ranks 1..3 and non-zero B, tokens, and targets with some -100.
 */
export function tinyProblem(s: TinySpec): { model: RefModel; lora: LoraWeights; tokens: Int32Array; targets: Int32Array } {
  const rand = rng(s.seed);
  const c = tinyConfig(s);
  const weights = new Map<string, FloatArray>();
  const put = (name: string, n: number, scale: number, offset = 0) => {
    const a = randArray(rand, n, scale);
    for (let i = 0; i < n; i++) a[i] += offset;
    weights.set(name, a);
  };
  put('model.embed_tokens.weight', c.vocabSize * c.hiddenSize, 1);
  const normOffset = c.normPlusOne ? 0 : 1; // Gemma stores w - 1
  for (let l = 0; l < c.numLayers; l++) {
    for (const n of layerNormNames(c)) put(`model.layers.${l}.${n}`, c.hiddenSize, 0.2, normOffset);
    for (const n of headNormNames(c)) put(`model.layers.${l}.${n}`, c.headDim, 0.2, normOffset);
    for (const m of MODULE_NAMES) {
      if (m === 'lm_head') continue;
      const { in: In, out: Out } = moduleShape(m, c);
      put(`${modulePath(m, l)}.weight`, Out * In, 1.5 / Math.sqrt(In));
      if (s.bias && (m === 'q_proj' || m === 'k_proj' || m === 'v_proj')) put(`${modulePath(m, l)}.bias`, Out, 0.3);
    }
  }
  put('model.norm.weight', c.hiddenSize, 0.2, normOffset);
  if (!s.tied) put('lm_head.weight', c.vocabSize * c.hiddenSize, 1.5 / Math.sqrt(c.hiddenSize));

  const lora: LoraWeights = new Map();
  let k = 0;
  for (let l = 0; l < c.numLayers; l++) {
    for (const m of MODULE_NAMES) {
      const path = modulePath(m, l);
      if (lora.has(path)) continue;
      const { in: In, out: Out } = moduleShape(m, c);
      const r = 1 + (k++ % 3);
      const alpha = 2 + r;
      lora.set(path, { A: randArray(rand, r * In, 1 / Math.sqrt(In)), B: randArray(rand, Out * r, 0.5), r, scale: alpha / r });
    }
  }
  const N = s.B * s.T;
  const tokens = Int32Array.from({ length: N }, () => Math.floor(rand() * c.vocabSize));
  const targets = Int32Array.from({ length: N }, (_, i) => (i % 3 === 1 ? -100 : Math.floor(rand() * c.vocabSize)));
  return { model: { config: c, weights }, lora, tokens, targets };
}

/** Odd sizes, GQA and MHA, tied and untied, with and without q/k/v bias, T = 1, 3, 4, 5. */
export const SPECS: TinySpec[] = [
  { seed: 11, hidden: 12, heads: 4, kvHeads: 2, headDim: 4, ffn: 20, vocab: 17, layers: 2, tied: false, bias: true, B: 2, T: 3 },
  { seed: 12, hidden: 20, heads: 6, kvHeads: 3, headDim: 2, ffn: 9, vocab: 23, layers: 1, tied: true, bias: false, B: 1, T: 5 },
  { seed: 13, hidden: 14, heads: 2, kvHeads: 2, headDim: 6, ffn: 11, vocab: 31, layers: 2, tied: true, bias: true, B: 2, T: 1 },
  { seed: 14, hidden: 10, heads: 4, kvHeads: 1, headDim: 4, ffn: 7, vocab: 19, layers: 2, tied: false, bias: false, B: 2, T: 4 },
];

/**
 * Qwen3- and Gemma-like models: q/k norms with head_dim != hidden / heads; Gemma 3's (1 + w) sandwich
 * norms, GeGLU, scaled embeddings, query_pre_attn_scalar, a sliding layer (window < T) and a full one
 * with their own RoPE bases; Gemma 2's attention and final-logit softcaps (small caps so they bend).
 */
export const ARCH_SPECS: (TinySpec & { name: string })[] = [
  {
    name: 'qwen3-like', seed: 21, hidden: 10, heads: 4, kvHeads: 2, headDim: 4, ffn: 9, vocab: 19, layers: 2, tied: true, bias: false, B: 2, T: 5,
    features: { modelType: 'qwen3', qkNorm: true },
  },
  {
    name: 'gemma3-like', seed: 22, hidden: 12, heads: 4, kvHeads: 1, headDim: 6, ffn: 10, vocab: 23, layers: 2, tied: true, bias: false, B: 2, T: 6,
    features: {
      modelType: 'gemma3_text', qkNorm: true, normPlusOne: true, sandwichNorms: true, mlpActivation: 'gelu_tanh', embedScale: Math.fround(Math.sqrt(12)),
      queryPreAttnScalar: 9, slidingWindow: 2, layerTypes: ['sliding', 'full'], localRopeTheta: 100, attnLogitSoftcap: null, finalLogitSoftcap: null,
    },
  },
  {
    name: 'gemma2-like (softcaps)', seed: 23, hidden: 8, heads: 2, kvHeads: 1, headDim: 4, ffn: 11, vocab: 17, layers: 2, tied: false, bias: false, B: 2, T: 6,
    features: {
      modelType: 'gemma2', normPlusOne: true, sandwichNorms: true, mlpActivation: 'gelu_tanh', embedScale: Math.fround(Math.sqrt(8)),
      queryPreAttnScalar: 3, slidingWindow: 3, layerTypes: ['full', 'sliding'], attnLogitSoftcap: 0.7, finalLogitSoftcap: 1.5,
    },
  },
];

/**
 * The reference runs in the float type of the weights: the same problem in float32 tracks float64
 * (logits and every LoRA gradient), and the results are float32 arrays.
 */
export function expectFloat32TracksFloat64(spec: TinySpec): void {
  const p64 = tinyProblem(spec);
  const to32 = (a: Float32Array | Float64Array) => Float32Array.from(a);
  const weights = new Map([...p64.model.weights].map(([k, v]) => [k, to32(v)]));
  const lora = new Map([...p64.lora].map(([k, m]) => [k, { ...m, A: to32(m.A), B: to32(m.B) }]));
  const r64 = lossAndGrads(p64.model, p64.lora, p64.tokens, p64.targets, spec.B, spec.T);
  const r32 = lossAndGrads({ config: p64.model.config, weights }, lora, p64.tokens, p64.targets, spec.B, spec.T);
  if (!(r32.logits instanceof Float32Array) || !(r64.logits instanceof Float64Array)) throw new Error('the reference did not run in the weights\' float type');
  expectClose('logits f32 vs f64', r32.logits, r64.logits, 1e-5, 1e-5);
  for (const [path, g] of r64.grads) {
    const g32 = r32.grads.get(path)!;
    if (!(g32.dA instanceof Float32Array)) throw new Error(`${path}: dA is not float32`);
    expectClose(`${path} dA f32 vs f64`, g32.dA, g.dA, 1e-6, 1e-4);
    expectClose(`${path} dB f32 vs f64`, g32.dB, g.dB, 1e-6, 1e-4);
  }
}
