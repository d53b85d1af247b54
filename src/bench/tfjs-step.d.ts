/** The bench model's LoRA step with tfjs-core + tfjs-backend-webgpu autograd (see tfjs-step.js). */
export interface TfjsStepCase {
  model: {
    vocabSize: number; hiddenSize: number; intermediateSize: number; numLayers: number; numHeads: number;
    numKvHeads: number; headDim: number; rmsNormEps: number; ropeTheta: number; tieWordEmbeddings: boolean;
  };
  /** f32 weights by Hugging Face name (the bench model's). */
  weights: Map<string, Float32Array>;
  rank: number;
  alpha: number;
  learningRate: number;
  gradClip: number;
  B: number;
  T: number;
  /** (B*T) tokens and targets (-100 excluded), as src/data/batching.ts builds them. */
  batches: { tokens: Int32Array; targets: Int32Array }[];
}

export function tfjsLoraStep(c: TfjsStepCase): Promise<{
  /** LoRA parameters trained. */
  trainable: number;
  /** One optimizer step on batch `step` (cycling); resolves with its loss. */
  run(step: number): Promise<number>;
  dispose(): void;
}>;
