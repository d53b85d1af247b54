/**
 * Frequency scaling of `rope_scaling` (config.json), as transformers' ROPE_INIT_FUNCTIONS define it.
 * "dynamic" NTK needs no entry: below max_position_embeddings it is the default RoPE, and longer
 * sequences are refused before training (src/config/architectures.ts).
 */
export type RopeScaling =
  /** inv_freq / factor (_compute_linear_scaling_rope_parameters) */
  | { type: 'linear'; factor: number }
  /** Llama 3.1+ (_compute_llama3_parameters): long wavelengths / factor, short ones kept, a smooth ramp between */
  | { type: 'llama3'; factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number };

/** What determines the RoPE angles: the base `rope_theta` and an optional scaling. */
export interface RopeSpec {
  theta: number;
  scaling?: RopeScaling | null;
}
