/** Tiny models of the Qwen3 and Gemma families for GPU tests (graph, generation, merge). */
import type { ModelConfig } from '../../src/config/model-config';
import { tinyModelConfig } from '../../src/model/synthetic';

/** Tiny models of each family: head_dim != hidden / heads, GQA, tied; windows shorter than T = 12. */
export const FAMILIES: Record<string, ModelConfig> = {
  qwen3: tinyModelConfig({ modelType: 'qwen3', architecture: 'Qwen3ForCausalLM', headDim: 16, qkNorm: true, tieWordEmbeddings: true, ropeTheta: 1e6 }),
  gemma3: tinyModelConfig({
    modelType: 'gemma3_text', architecture: 'Gemma3ForCausalLM', numHeads: 4, numKvHeads: 1, headDim: 16, tieWordEmbeddings: true,
    qkNorm: true, normPlusOne: true, sandwichNorms: true, mlpActivation: 'gelu_tanh', embedScale: Math.fround(Math.sqrt(32)),
    queryPreAttnScalar: 24, slidingWindow: 5, layerTypes: ['sliding', 'full'], ropeTheta: 1e6, localRopeTheta: 10000,
  }),
  gemma2: tinyModelConfig({
    modelType: 'gemma2', architecture: 'Gemma2ForCausalLM', numHeads: 4, numKvHeads: 2, headDim: 8,
    normPlusOne: true, sandwichNorms: true, mlpActivation: 'gelu_tanh', embedScale: Math.fround(Math.sqrt(32)),
    queryPreAttnScalar: 12, slidingWindow: 4, layerTypes: ['sliding', 'full'], attnLogitSoftcap: 2, finalLogitSoftcap: 3,
  }),
};
