/**
 * Random Llama-family models and a learnable synthetic dataset, for tests and benchmarks: each
 * sequence follows a fixed random successor table from a random start, so a few dozen LoRA steps
 * visibly lower the loss.
 */
import { headNormNames, layerNormNames } from '../config/architecture-features';
import type { ModelConfig } from '../config/model-config';
import { MODULE_NAMES, modulePath, moduleShape } from '../config/lora-targets';
import type { TokenizedExample } from '../data/batching';
import { Prng, SYNTHETIC_DATA_STREAM, SYNTHETIC_WEIGHTS_STREAM } from '../core/rng';

export function tinyModelConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    modelType: 'llama', vocabSize: 67, hiddenSize: 32, intermediateSize: 48, numLayers: 2, numHeads: 4, numKvHeads: 2,
    headDim: 8, rmsNormEps: 1e-5, ropeTheta: 10000, maxPositionEmbeddings: 64, tieWordEmbeddings: false, attentionBias: false, ...over,
  };
}

/**
 * Random f32 weights under Hugging Face names, with every norm the config's architecture reads
 * (Gemma's sandwich norms, q/k head norms). Norm weights scale by about 1: near 1, or near 0 where
 * the checkpoint stores w - 1 (normPlusOne).
 */
export function tinyWeights(c: ModelConfig, seed = 1): Map<string, Float32Array<ArrayBuffer>> {
  const rng = new Prng(seed, SYNTHETIC_WEIGHTS_STREAM);
  const w = new Map<string, Float32Array<ArrayBuffer>>();
  const put = (name: string, n: number, scale: number, offset = 0) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = offset + scale * (2 * rng.nextFloat() - 1);
    w.set(name, a);
  };
  const normOffset = c.normPlusOne ? 0 : 1;
  put('model.embed_tokens.weight', c.vocabSize * c.hiddenSize, 1);
  for (let l = 0; l < c.numLayers; l++) {
    for (const n of layerNormNames(c)) put(`model.layers.${l}.${n}`, c.hiddenSize, 0.1, normOffset);
    for (const n of headNormNames(c)) put(`model.layers.${l}.${n}`, c.headDim, 0.1, normOffset);
    for (const m of MODULE_NAMES) {
      if (m === 'lm_head') continue;
      const { in: In, out: Out } = moduleShape(m, c);
      put(`${modulePath(m, l)}.weight`, Out * In, 1.2 / Math.sqrt(In));
      if (c.attentionBias && (m === 'q_proj' || m === 'k_proj' || m === 'v_proj')) put(`${modulePath(m, l)}.bias`, Out, 0.2);
    }
  }
  put('model.norm.weight', c.hiddenSize, 0.1, normOffset);
  if (!c.tieWordEmbeddings) put('lm_head.weight', c.vocabSize * c.hiddenSize, 1.2 / Math.sqrt(c.hiddenSize));
  return w;
}

/** Sequences of length `len` following one fixed random successor of each token. */
export function chainDataset(vocab: number, count: number, len: number, seed = 7): TokenizedExample[] {
  const rng = new Prng(seed, SYNTHETIC_DATA_STREAM);
  const next = rng.shuffle(Array.from({ length: vocab - 1 }, (_, i) => i + 1)); // 0 is padding
  const out: TokenizedExample[] = [];
  for (let i = 0; i < count; i++) {
    const ids = [1 + rng.nextInt(vocab - 1)];
    while (ids.length < len) ids.push(next[ids[ids.length - 1] - 1]);
    out.push({ ids });
  }
  return out;
}

export const loaderOf = (w: Map<string, Float32Array<ArrayBuffer>>) => async (name: string) => {
  const t = w.get(name);
  if (!t) throw new Error(`no tensor ${name}`);
  return t;
};
