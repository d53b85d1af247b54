/** What a checkpoint was trained on (see src/train/fingerprint.ts for how each hash is made). */
export interface Fingerprints {
  model: { name: string; hash: string };
  dataset: { name: string; hash: string; train: number; validation: number };
  config: { hash: string };
}
