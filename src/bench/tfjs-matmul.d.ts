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

/** tf.matMul on the case's tensors: `run` is one product and the readback of its result. */
export function tfjsMatmul(c: TfjsMatmulCase): Promise<{ run(): Promise<void>; dispose(): void }>;
