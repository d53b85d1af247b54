import type { Timed } from './timing';

/** Switch tfjs to its WebGPU backend; the reason when that is impossible. */
export function tfjsWebgpu(): Promise<{ ok: true; version: string } | { ok: false; reason: string }>;

export interface TfjsMatmulCase {
  /** A (M, K), or (K, M) when transA; B (K, N), or (N, K) when transB: the storage our kernel reads. */
  a: Float32Array;
  b: Float32Array;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
}

/** Milliseconds per tf.matMul on the same shape and data (warm-up excluded). */
export function timeTfjsMatmul(c: TfjsMatmulCase, budgetMs: number, maxRuns?: number): Promise<Timed>;
