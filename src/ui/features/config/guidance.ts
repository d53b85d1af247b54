/**
 * Advice where people usually go wrong, from the config, the estimate and the data. Pure, so it
 * is tested on its own; each note names the field it is about.
 */
import type { RunConfig } from '../../../config/run-config';
import type { DatasetSummary, Estimate } from '../../../worker/api';

export interface Note {
  field: string;
  level: 'warn' | 'info';
  text: string;
}

const LINEAR_TARGETS = ['query', 'key', 'value', 'projection', 'mlp'] as const;

/** Below this many base parameters the usual learning-rate advice is scaled up. */
const TINY_MODEL_PARAMS = 10_000_000;

export function guidance(c: RunConfig, est: Estimate | null, data: DatasetSummary | null, maxPositions?: number): Note[] {
  const tiny = est !== null && est.baseParams < TINY_MODEL_PARAMS;
  const notes = c.method === 'full' ? fullFinetuningNotes(c, tiny) : loraNotes(c, tiny);
  notes.push(...commonNotes(c, est, data, maxPositions));
  return notes;
}

/**
 * Full finetuning moves every weight, so it takes learning rates ten times smaller than LoRA's
 * (1e-5 to 5e-5 with AdamW for models of a few hundred million parameters and more; a tiny model
 * like the demo's tolerates about 1e-3). The LoRA settings do not apply and get no advice.
 */
function fullFinetuningNotes(c: RunConfig, tiny: boolean): Note[] {
  const limit = tiny ? 2e-3 : 1e-4;
  if (c.optimizer !== 'adamw' || c.learningRate <= limit) return [];
  return [{
    field: 'learningRate', level: 'warn',
    text: tiny
      ? `A learning rate of ${c.learningRate} is high for full finetuning even of a model this small (up to about ${limit} here): every weight moves. Watch for a loss that jumps or diverges.`
      : `A learning rate of ${c.learningRate} is high for full finetuning, which moves every weight: 1e-5 to 5e-5 is typical with AdamW (ten times less than LoRA).`,
  }];
}

function loraNotes(c: RunConfig, tiny: boolean): Note[] {
  const notes: Note[] = [];
  const ratio = c.alpha / c.rank;
  if (!c.useRslora && (ratio < 0.5 || ratio > 4)) {
    notes.push({ field: 'alpha', level: 'warn', text: `alpha / rank is ${ratio.toFixed(2)}: the update is scaled by it. alpha = 2 x rank (${2 * c.rank}) is the usual choice; change alpha together with rank.` });
  }
  if (c.rank >= 64 && !c.useRslora) {
    notes.push({ field: 'useRslora', level: 'info', text: `At rank ${c.rank}, rsLoRA (alpha / sqrt(r)) keeps the update from shrinking as the rank grows.` });
  }
  const linear = LINEAR_TARGETS.filter((t) => c.targets.includes(t)).length;
  // Typical LoRA learning rates are for models of hundreds of millions of parameters and more; a
  // model of a few million (the demo's 133k) needs one ten to a hundred times larger to move at all.
  const adamLimit = tiny ? 2e-2 : linear >= 4 ? 3e-4 : 1e-3;
  if (c.optimizer === 'adamw' && c.learningRate > adamLimit) {
    notes.push({
      field: 'learningRate', level: 'warn',
      text: tiny
        ? `A learning rate of ${c.learningRate} is high even for a model this small (up to about ${+adamLimit.toPrecision(2)} here). Watch for a loss that jumps or diverges.`
        : linear >= 4
          ? `A learning rate of ${c.learningRate} is high with ${linear} adapted projections per layer; 1e-4 to 3e-4 is typical for all linear layers. Watch for a loss that jumps or diverges.`
          : `A learning rate of ${c.learningRate} is high for LoRA with AdamW (1e-4 to 1e-3 is typical).`,
    });
  }
  if ((c.optimizer === 'lion' || c.optimizer === 'sophia') && c.learningRate > adamLimit / 3) {
    const name = c.optimizer === 'lion' ? 'Lion' : 'Sophia';
    notes.push({ field: 'learningRate', level: 'warn', text: `${name} moves every parameter by up to the learning rate each step: ${c.learningRate} is high; take 3-10x less than with AdamW (at most about ${+(adamLimit / 3).toPrecision(2)} here).` });
  }
  if (c.optimizer === 'sgd' && c.learningRate < 1e-3) {
    notes.push({ field: 'learningRate', level: 'info', text: 'SGD usually needs a larger learning rate than AdamW (1e-2 or more).' });
  }
  // A tiny model (the demo) learns to spell its answers through the head; a large one rarely needs it.
  if (c.targets.includes('head') && !tiny) {
    notes.push({ field: 'targets', level: 'info', text: 'An adapter on the LM head is large (vocabulary x rank) and rarely needed; most recipes leave it out.' });
  }
  if (c.dropout > 0.2) notes.push({ field: 'dropout', level: 'warn', text: `LoRA dropout of ${c.dropout} is high; 0.05 to 0.1 is typical.` });
  return notes;
}

/** Advice whatever the method: clipping, sequence length, warmup, epochs, the data. */
function commonNotes(c: RunConfig, est: Estimate | null, data: DatasetSummary | null, maxPositions?: number): Note[] {
  const notes: Note[] = [];
  if (c.gradClip === 0) notes.push({ field: 'gradClip', level: 'info', text: 'Without gradient clipping one bad batch can undo a run; 1.0 is the usual value.' });
  if (maxPositions !== undefined && c.maxSeqLen > maxPositions) {
    notes.push({ field: 'maxSeqLen', level: 'warn', text: `The model was trained on at most ${maxPositions} positions; longer sequences (${c.maxSeqLen}) will not work well.` });
  }
  if (est) {
    if (est.problems.length) {
      notes.push({ field: 'microBatch', level: 'warn', text: est.problems.join(' ') });
    }
    if (est.steps > 0 && c.warmupSteps > 0.2 * est.steps) {
      notes.push({ field: 'warmupSteps', level: 'info', text: `Warmup takes ${c.warmupSteps} of ${est.steps} steps; 3-10% of the run is typical.` });
    }
    if (est.examples > 0 && c.maxSteps === undefined && c.epochs > 3) {
      notes.push({ field: 'epochs', level: 'info', text: `${c.epochs} epochs over ${est.examples} examples risks memorising them; watch the validation loss.` });
    }
  }
  if (data) {
    const cut = data.lengths.filter((l) => l > c.maxSeqLen + 1).length;
    if (cut > 0) {
      const sorted = [...data.lengths].sort((a, b) => a - b);
      const p95 = sorted[Math.floor(0.95 * (sorted.length - 1))];
      notes.push({ field: 'maxSeqLen', level: cut > 0.05 * data.lengths.length ? 'warn' : 'info', text: `${cut} of ${data.lengths.length} examples are longer than ${c.maxSeqLen} tokens and will be cut (95% fit in ${p95}).` });
    }
    if (data.validation === 0 && c.evalEvery > 0) {
      notes.push({ field: 'evalEvery', level: 'info', text: 'No validation examples: set a validation share in Data to see the validation loss.' });
    }
  }
  return notes;
}

/** Suggestions when the memory does not fit (used by the estimate box). */
export function memoryFixes(c: RunConfig): string[] {
  const fixes: string[] = [];
  if (c.basePrecision !== 'nf4') fixes.push('NF4 base weights (QLoRA)');
  if (c.maxSeqLen > 128) fixes.push(`shorter sequences (now ${c.maxSeqLen})`);
  if (c.microBatch > 1) fixes.push(`a smaller micro-batch (now ${c.microBatch}) with more gradient accumulation`);
  if (!c.activationCheckpointing) fixes.push('activation checkpointing (recompute each layer in the backward)');
  if (c.activationPrecision === 'f32') fixes.push('bf16 saved activations (half their memory)');
  return fixes;
}
