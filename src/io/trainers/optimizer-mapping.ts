/**
 * Lion, Adafactor and Sophia as the trainers can run them. transformers' TrainingArguments (read by
 * Axolotl and TRL) has `optim` names for two of them: "lion_32bit" (bitsandbytes' Lion, its betas
 * from adam_beta1 / adam_beta2) and "adafactor" (transformers' Adafactor with scale_parameter=False,
 * relative_step=False and the learning rate given, every other setting at its default). torchtune
 * instantiates any optimizer class by name. No trainer has SophiaG (Liu et al. 2023: it needs its
 * Hessian estimate in the training loop): those exports train with AdamW and say so.
 */
import type { RunConfig } from '../../config/run-config';
import type { TrainerNote } from './run-mapping';

/** The Adafactor settings transformers' Trainer leaves at their defaults (optim="adafactor"). */
const TRAINER_ADAFACTOR = { decayRate: -0.8, clipThreshold: 1, eps: [1e-30, 1e-3], beta1: null, scaleParameter: false };

/** The run's Adafactor settings that optim="adafactor" cannot express, in words ([] when it runs exactly). */
export function adafactorDifferences(run: RunConfig): string[] {
  const out: string[] = [];
  if (run.adafactorBeta1 !== TRAINER_ADAFACTOR.beta1) out.push(`beta1 ${run.adafactorBeta1} (a first moment)`);
  if (run.adafactorScaleParameter !== TRAINER_ADAFACTOR.scaleParameter) out.push('scale_parameter=True');
  if (run.adafactorDecayRate !== TRAINER_ADAFACTOR.decayRate) out.push(`decay_rate ${run.adafactorDecayRate}`);
  if (run.adafactorClipThreshold !== TRAINER_ADAFACTOR.clipThreshold) out.push(`clip_threshold ${run.adafactorClipThreshold}`);
  if (run.adafactorEps[0] !== TRAINER_ADAFACTOR.eps[0] || run.adafactorEps[1] !== TRAINER_ADAFACTOR.eps[1]) out.push(`eps (${run.adafactorEps.join(', ')})`);
  return out;
}

/** transformers.optimization.Adafactor's keyword arguments for the run (weight decay comes from the trainer's own setting). */
export function adafactorKwargs(run: RunConfig): Record<string, number | boolean | null | number[]> {
  return {
    lr: run.learningRate, eps: [...run.adafactorEps], clip_threshold: run.adafactorClipThreshold, decay_rate: run.adafactorDecayRate,
    beta1: run.adafactorBeta1, scale_parameter: run.adafactorScaleParameter, relative_step: false, warmup_init: false,
  };
}

/** The note of an export that trains Sophia's run with AdamW instead. */
export function sophiaNote(trainer: string, adamw: string): TrainerNote {
  return {
    field: 'optimizer',
    text: `Sophia (SophiaG) is not available in ${trainer}: it needs its Gauss-Newton-Bartlett Hessian estimate inside the training loop. `
      + `This export trains with AdamW (${adamw}) at the same learning rate and weight decay; Sophia's rates are Lion-like, so AdamW may want a larger one`,
  };
}

/** transformers' `optim` for a run (Axolotl's `optimizer`), with adam_beta1/2 and adam_epsilon where that optimizer reads them, and notes. */
export function hfOptim(run: RunConfig, trainer: string): { name: string; betas: [number, number] | null; eps: number | null; notes: TrainerNote[] } {
  switch (run.optimizer) {
    case 'lion':
      return { name: 'lion_32bit', betas: [...run.lionBetas], eps: null, notes: [] };
    case 'adafactor': {
      const diff = adafactorDifferences(run);
      return {
        name: 'adafactor', betas: null, eps: null,
        notes: diff.length ? [{ field: 'optimizer', text: `${trainer}'s optim "adafactor" runs transformers' Adafactor with its defaults; the studio's ${diff.join(', ')} are not passed on` }] : [],
      };
    }
    case 'sophia':
      return { name: 'adamw_torch', betas: [...run.betas], eps: run.eps, notes: [sophiaNote(trainer, `adamw_torch, betas ${run.betas.join(' / ')}`)] };
    default:
      return { name: 'adamw_torch', betas: [...run.betas], eps: run.eps, notes: [] };
  }
}
