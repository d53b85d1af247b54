/**
 * The label of each RunConfig field as the Configure form shows it: the form's labels, and the
 * words every message uses instead of the schema's identifiers ("Warmup steps", not `warmupSteps`).
 */
export const FIELD_LABELS: Record<string, string> = {
  method: 'Method', rank: 'Rank (r)', alpha: 'Alpha', dropout: 'LoRA dropout', useRslora: 'rsLoRA scaling', useDora: 'DoRA (magnitude + direction)', targets: 'LoRA targets',
  rankPattern: 'Per-layer rank', alphaPattern: 'Per-layer alpha', basePrecision: 'Base precision', doubleQuant: 'Double quantization',
  optimizer: 'Optimizer', learningRate: 'Learning rate', betas: 'Betas', 'betas.0': 'Beta 1', 'betas.1': 'Beta 2', eps: 'Epsilon',
  weightDecay: 'Weight decay', momentum: 'Momentum', nesterov: 'Nesterov', schedule: 'LR schedule', warmupSteps: 'Warmup steps',
  minLrRatio: 'Final LR ratio', epochs: 'Epochs', maxSteps: 'Max steps', microBatch: 'Micro-batch', gradAccumulation: 'Gradient accumulation',
  maxSeqLen: 'Max sequence length', gradClip: 'Gradient clipping', seed: 'Seed', evalEvery: 'Eval every (steps)', logEvery: 'Log every (steps)',
  vocabChunk: 'LM-head vocabulary chunk', activationCheckpointing: 'Activation checkpointing', activationPrecision: 'Saved activations',
  checkpointEverySteps: 'Checkpoint every (steps)', checkpointEveryMinutes: 'Checkpoint every (minutes)',
  earlyStoppingPatience: 'Early stopping patience (evaluations)', earlyStoppingMinDelta: 'Early stopping minimum improvement',
  lionBetas: 'Lion betas', 'lionBetas.0': 'Lion beta 1', 'lionBetas.1': 'Lion beta 2',
  adafactorBeta1: 'Adafactor beta 1', adafactorDecayRate: 'Adafactor decay rate', adafactorClipThreshold: 'Adafactor update clipping (RMS)',
  adafactorEps: 'Adafactor epsilons', 'adafactorEps.0': 'Adafactor epsilon 1', 'adafactorEps.1': 'Adafactor epsilon 2', adafactorScaleParameter: 'Adafactor parameter scaling',
  sophiaBetas: 'Sophia betas', 'sophiaBetas.0': 'Sophia beta 1', 'sophiaBetas.1': 'Sophia beta 2', sophiaRho: 'Sophia rho', sophiaHessianEvery: 'Sophia Hessian every (steps)',
};

/** A field's label (a path such as "betas.1" too); the key itself when there is none. */
export const labelOf = (key: string): string => FIELD_LABELS[key] ?? FIELD_LABELS[key.split('.')[0]] ?? key;

/** The identifiers that are not plain words already ("warmupSteps"; "rank" reads fine). */
const identifiers = Object.keys(FIELD_LABELS).filter((k) => /[A-Z]/.test(k)).sort((a, b) => b.length - a.length);

/** A message with every schema identifier in it replaced by its label in plain words. */
export function inPlainWords(message: string): string {
  let out = message;
  for (const k of identifiers) out = out.replace(new RegExp(`\\b${k}\\b`, 'g'), FIELD_LABELS[k].replace(/ \(.*\)$/, '').toLowerCase());
  return out;
}
