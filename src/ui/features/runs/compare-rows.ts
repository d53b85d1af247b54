/**
 * What the comparison says of each run, in words: one row per setting or outcome, each a label
 * and a function of the run record. The table and the exports read the same rows.
 */
import type { RunConfig } from '../../../config/run-config';
import type { RunRecord } from '../../../worker/api';
import { bytes, duration, loss } from '../../components/format';

const OPTIMIZERS: Record<string, string> = { adamw: 'AdamW', sgd: 'SGD', lion: 'Lion', adafactor: 'Adafactor', sophia: 'Sophia' };

/** "AdamW, learning rate 0.001", with SGD's momentum (and Nesterov) where it applies. */
export function optimizerText(c: RunConfig): string {
  const name = OPTIMIZERS[c.optimizer] ?? c.optimizer;
  const momentum = c.optimizer === 'sgd' ? `, momentum ${c.momentum}${c.nesterov ? ' (Nesterov)' : ''}` : '';
  const decay = c.weightDecay > 0 ? `, weight decay ${c.weightDecay}` : '';
  return `${name}, learning rate ${c.learningRate}${momentum}${decay}`;
}

/** "micro-batch 8 × accumulation 1 × 64 tokens = 512 tokens/step": what one optimizer step sees at most. */
export function batchText(c: RunConfig): string {
  const perStep = c.microBatch * c.gradAccumulation * c.maxSeqLen;
  return `micro-batch ${c.microBatch} × accumulation ${c.gradAccumulation} × ${c.maxSeqLen} tokens = ${perStep.toLocaleString('en-US')} tokens/step`
    + (c.activationCheckpointing ? ', activations recomputed (checkpointing)' : '')
    + (c.activationPrecision === 'bf16' ? ', activations kept in bf16' : '');
}

const SCHEDULES: Record<string, string> = { constant: 'constant', cosine: 'cosine', 'warmup-cosine': 'warmup + cosine', linear: 'warmup + linear decay' };

/** "warmup + cosine, 5 warmup steps, down to 0.1 × the peak". */
export function scheduleText(c: RunConfig): string {
  const warm = c.warmupSteps > 0 ? `, ${c.warmupSteps} warmup step${c.warmupSteps === 1 ? '' : 's'}` : '';
  const floor = (c.schedule === 'cosine' || c.schedule === 'warmup-cosine') && c.minLrRatio > 0 ? `, down to ${c.minLrRatio} × the peak` : '';
  return `${SCHEDULES[c.schedule] ?? c.schedule}${warm}${floor}`;
}

export function earlyStoppingText(r: RunRecord): string {
  const c = r.config;
  if (!c.earlyStoppingPatience) return 'off';
  const rule = `after ${c.earlyStoppingPatience} evaluations without improvement${c.earlyStoppingMinDelta ? ` (by more than ${c.earlyStoppingMinDelta})` : ''}`;
  return r.stoppedEarly ? `stopped after step ${r.stoppedEarly.step}: ${rule}` : `did not stop (${rule})`;
}

export function stepsText(r: RunRecord): string {
  return `${r.final?.steps ?? r.pointCount} / ${r.totalSteps}`;
}

export function bestValText(r: RunRecord): string {
  return r.final?.bestVal ? `${loss(r.final.bestVal.loss)} (step ${r.final.bestVal.step})` : loss(r.final?.valLoss);
}

/** A LoRA setting, or a dash for a full finetuning run (every weight trained: no rank, alpha or targets). */
const loraOnly = (text: (c: RunConfig) => string) => (r: RunRecord) => (r.config.method === 'full' ? '– (full finetuning)' : text(r.config));

export const COMPARE_ROWS: [string, (r: RunRecord) => string][] = [
  ['Method', (r) => (r.config.method === 'full' ? 'full finetuning' : `LoRA${r.config.useDora ? ' (DoRA)' : ''}`)],
  ['Rank', loraOnly((c) => String(c.rank))],
  ['Alpha', loraOnly((c) => `${c.alpha}${c.useRslora ? ' (rsLoRA)' : ''}`)],
  ['Targets', loraOnly((c) => c.targets.join(', '))],
  ['Base precision', (r) => r.config.basePrecision + (r.config.doubleQuant ? ' + double quant' : '')],
  ['Optimizer', (r) => optimizerText(r.config)],
  ['Schedule', (r) => scheduleText(r.config)],
  ['Batch', (r) => batchText(r.config)],
  ['Early stopping', earlyStoppingText],
  ['Steps', stepsText],
  ['Train loss (mean of last 10)', (r) => loss(r.final?.trainLossMean ?? r.final?.trainLoss)],
  ['Base validation loss', (r) => loss(r.baseValLoss)],
  ['Best validation loss', bestValText],
  ['Weights kept', (r) => (r.adapterStep !== undefined ? `step ${r.adapterStep} (best evaluation)` : r.final ? `step ${r.final.steps} (last)` : '–')],
  ['Peak memory', (r) => (r.final ? bytes(r.final.peakMemory) : '–')],
  ['Wall time', (r) => (r.final ? duration(r.final.wallMs) : '–')],
  ['Seed', (r) => String(r.config.seed)],
];
