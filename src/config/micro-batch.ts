/** One micro-batch: (B, T) token ids and aligned targets (targets[b, t] = label of position t, -100 = ignored). */
export interface MicroBatch {
  tokens: Int32Array<ArrayBuffer>; //  (B*T)
  targets: Int32Array<ArrayBuffer>; // (B*T)
}
