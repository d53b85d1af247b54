import type { GoldenCase } from './golden-case';

/** What an engine computes for a golden case; tensors keyed by the PEFT adapter key. */
export interface GoldenResult {
  logits: Float32Array; // (B, T, V)
  loss: number;
  /** `<adapter key>` -> gradient, same shape as the tensor. */
  grads: Map<string, Float32Array>;
  /** `<adapter key>` -> the tensor after one AdamW step. */
  afterAdamw: Map<string, Float32Array>;
  lossAfterAdamw: number;
}

export interface GoldenEngine {
  name: string;
  run(c: GoldenCase): Promise<GoldenResult>;
}
