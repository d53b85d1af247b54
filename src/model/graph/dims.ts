import type { ModelConfig } from '../../config/model-config';

/** Every size the training graph needs, derived once from the model and run configs. */
export interface GraphDims {
  B: number; // sequences per micro-batch
  T: number; // tokens per sequence
  N: number; // B * T rows of every activation
  C: number; // hidden size
  H: number; // query heads
  KV: number; // key/value heads
  D: number; // head dim
  F: number; // MLP intermediate size
  V: number; // vocabulary
  L: number; // decoder layers
  /** Vocabulary columns per LM-head chunk: a multiple of 64 (so views stay 256-byte aligned), or V. */
  Vc: number;
  /** [v0, width] of each head chunk. */
  chunks: [number, number][];
}

export function graphDims(cfg: ModelConfig, B: number, T: number, vocabChunk: number): GraphDims {
  const V = cfg.vocabSize;
  const Vc = vocabChunk >= V ? V : Math.max(64, Math.floor(vocabChunk / 64) * 64);
  const chunks: [number, number][] = [];
  for (let v0 = 0; v0 < V; v0 += Vc) chunks.push([v0, Math.min(Vc, V - v0)]);
  return {
    B, T, N: B * T, C: cfg.hiddenSize, H: cfg.numHeads, KV: cfg.numKvHeads, D: cfg.headDim,
    F: cfg.intermediateSize, V, L: cfg.numLayers, Vc: Math.min(Vc, V), chunks,
  };
}
