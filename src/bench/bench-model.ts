/**
 * The model and runs the benchmark measures: a Llama-shaped decoder at the minimum size
 * (hidden 256, 4 layers, sequence 128, micro-batch 4, LoRA r = 8 on all six targets), random
 * weights, and the learnable synthetic dataset, so every figure is reproducible without downloads.
 * `quick` shrinks everything for a smoke run of the harness itself.
 */
import type { ModelConfig } from '../config/model-config';
import { tinyModelConfig } from '../model/synthetic';
import { TARGETS } from '../config/lora-targets';
import type { RunConfigInput } from '../config/run-config';

export interface BenchSetup {
  model: ModelConfig;
  /** Run options shared by every benchmarked configuration. */
  run: RunConfigInput;
  /** Tokens per micro-batch (B * T): the M of every activation product. */
  tokens: number;
  /** Timed training steps per configuration (after one warm-up step). */
  steps: number;
  /** Wall time of one kernel comparison after its warm-ups, ms, and its most rounds (see interleave). */
  kernelBudgetMs: number;
  kernelRounds: number;
}

/**
 * The bench model as a Qwen3 and as a Gemma 3 of the same sizes (the families' features on the
 * Llama shapes), to measure what each family costs per step against the Llama. Gemma 3's pattern:
 * every layer but the last slides over a window of half the sequence, with its own RoPE base.
 */
export function benchFamilies(model: ModelConfig, T: number): { name: string; model: ModelConfig }[] {
  const L = model.numLayers;
  return [
    { name: 'qwen3', model: { ...model, modelType: 'qwen3', architecture: 'Qwen3ForCausalLM', qkNorm: true } },
    {
      name: 'gemma3',
      model: {
        ...model, modelType: 'gemma3_text', architecture: 'Gemma3ForCausalLM', qkNorm: true, normPlusOne: true, sandwichNorms: true,
        mlpActivation: 'gelu_tanh', embedScale: Math.fround(Math.sqrt(model.hiddenSize)), queryPreAttnScalar: model.headDim,
        slidingWindow: T / 2, layerTypes: Array.from({ length: L }, (_, l) => (l === L - 1 ? 'full' : 'sliding')), localRopeTheta: 10000, ropeTheta: 1e6,
      },
    },
  ];
}

export function benchSetup(quick: boolean): BenchSetup {
  const model = quick
    ? tinyModelConfig({ vocabSize: 256, hiddenSize: 64, intermediateSize: 128, numLayers: 2, numHeads: 2, numKvHeads: 1, headDim: 32, maxPositionEmbeddings: 64 })
    : tinyModelConfig({ vocabSize: 2048, hiddenSize: 256, intermediateSize: 768, numLayers: 4, numHeads: 4, numKvHeads: 2, headDim: 64, maxPositionEmbeddings: 256 });
  const B = quick ? 2 : 4;
  const T = quick ? 32 : 128;
  return {
    model,
    run: {
      rank: 8, alpha: 16, targets: [...TARGETS], microBatch: B, maxSeqLen: T, gradAccumulation: 1,
      optimizer: 'adamw', learningRate: 1e-3, schedule: 'constant', gradClip: 1, dropout: 0,
      vocabChunk: model.vocabSize, logEvery: 1, seed: 1234,
    },
    tokens: B * T,
    steps: quick ? 1 : 2,
    kernelBudgetMs: quick ? 200 : 3000,
    kernelRounds: quick ? 2 : 3,
  };
}
