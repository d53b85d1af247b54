import type { ModelConfig } from '../../config/model-config';
import { mlpRowChunks, type RowRange } from './mlp-chunks';

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
  /** [v0, rows] of each shard of the embedding table: each fits one binding, and holds whole head chunks. */
  embedShards: [number, number][];
  /** [n0, rows] of each token-row chunk of the MLP (./mlp-chunks.ts): [[0, N]] unless (N, F) is above one binding. */
  mlpChunks: RowRange[];
  /** The largest binding every piece (vocabulary shards, row shards of linears, LoRA chunks, MLP row chunks) is sized for. */
  maxBindingBytes: number;
}

/**
 * `maxBindingBytes`: the device's largest binding (min of maxStorageBufferBindingSize and
 * maxBufferSize). The head chunk shrinks until its weights (Vc, C) and logits (N, Vc) fit one
 * binding, and the embedding table is cut into shards of whole chunks that each fit one. The MLP
 * runs in token-row chunks when (N, F) does not fit; `mlpRanks` are the LoRA ranks of its modules
 * (their (N, r) hiddens are bound as row ranges, which sets the rows' alignment).
 */
/** The largest buffer one binding can take on a device. */
export const maxBindingBytes = (limits: { maxStorageBufferBindingSize: number; maxBufferSize: number }): number =>
  Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);

export function graphDims(cfg: ModelConfig, B: number, T: number, vocabChunk: number, maxBindingBytes = Infinity, mlpRanks: readonly number[] = []): GraphDims {
  const V = cfg.vocabSize;
  const C = cfg.hiddenSize;
  const N = B * T;
  const fitRows = Math.floor(maxBindingBytes / (4 * Math.max(C, N))); // rows of (., C) and columns of (N, .) that fit
  let Vc = vocabChunk >= V ? V : Math.max(64, Math.floor(vocabChunk / 64) * 64);
  if (Vc > fitRows) Vc = Math.max(64, Math.floor(fitRows / 64) * 64);
  const chunks: [number, number][] = [];
  for (let v0 = 0; v0 < V; v0 += Vc) chunks.push([v0, Math.min(Vc, V - v0)]);
  const shardRows = Math.max(Vc, Math.floor(maxBindingBytes / (4 * C) / Vc) * Vc);
  const embedShards: [number, number][] = [];
  for (let v0 = 0; v0 < V; v0 += shardRows) embedShards.push([v0, Math.min(shardRows, V - v0)]);
  return {
    B, T, N, C, H: cfg.numHeads, KV: cfg.numKvHeads, D: cfg.headDim,
    F: cfg.intermediateSize, V, L: cfg.numLayers, Vc: Math.min(Vc, V), chunks, embedShards,
    mlpChunks: mlpRowChunks(N, cfg.intermediateSize, maxBindingBytes, [C, ...mlpRanks]), maxBindingBytes,
  };
}
