/**
 * Lion, Adafactor and Sophia in the trainer exports: each trainer runs Lion and Adafactor where it
 * can (transformers' optim names for Axolotl and TRL, the optimizer class for torchtune), says what
 * it cannot pass on, and trains a Sophia run with AdamW under a note that says so.
 */
import { describe, expect, it } from 'vitest';
import { ALPACA_JSONL, exportCase, hasPython, parseYaml, pyCompile, pyKwargs, type Case } from './helpers';

const python = hasPython();
const base = { rank: 8, alpha: 16, targets: ['query', 'value'] as const, learningRate: 3e-4, weightDecay: 0.1, maxSteps: 20 };
const make = (over: Record<string, unknown>): Case => exportCase({ ...base, targets: [...base.targets], ...over }, 'meta-llama/Llama-3.2-1B-Instruct', ALPACA_JSONL, 'alpaca.jsonl');

const lion = make({ optimizer: 'lion', lionBetas: [0.95, 0.98] });
const adafactor = make({ optimizer: 'adafactor' });
const adafactorM = make({ optimizer: 'adafactor', adafactorBeta1: 0.9, adafactorClipThreshold: 0.5 });
const sophia = make({ optimizer: 'sophia' });

const axolotl = (c: Case) => parseYaml(c.exports.axolotl.files['axolotl.yaml']);
const torchtune = (c: Case) => parseYaml(c.exports.torchtune.files['torchtune.yaml']);
const script = (c: Case) => c.exports.trl.files['train_trl.py'];
const notes = (c: Case, t: keyof Case['exports']) => c.exports[t].notes.filter((n) => n.field === 'optimizer').map((n) => n.text);

describe('optimizers in the trainer exports', () => {
  it('Lion: bitsandbytes Lion with the run\'s betas in all three', () => {
    expect(axolotl(lion)).toMatchObject({ optimizer: 'lion_32bit', adam_beta1: 0.95, adam_beta2: 0.98, weight_decay: 0.1 });
    expect(axolotl(lion)).not.toHaveProperty('adam_epsilon');
    expect(pyKwargs(script(lion), 'SFTConfig')).toMatchObject({ optim: 'lion_32bit', adam_beta1: 0.95, adam_beta2: 0.98, weight_decay: 0.1 });
    expect(torchtune(lion).optimizer).toEqual({ _component_: 'bitsandbytes.optim.Lion32bit', lr: 3e-4, betas: [0.95, 0.98], weight_decay: 0.1 });
    for (const t of ['axolotl', 'trl', 'torchtune'] as const) expect(notes(lion, t)).toEqual([]);
  });

  it('Adafactor: transformers\' Adafactor; Axolotl names what its optim "adafactor" cannot pass on, TRL and torchtune pass everything', () => {
    expect(axolotl(adafactor)).toMatchObject({ optimizer: 'adafactor', weight_decay: 0.1 });
    expect(axolotl(adafactor)).not.toHaveProperty('adam_beta1');
    expect(notes(adafactor, 'axolotl')).toEqual([]);
    expect(axolotl(adafactorM).optimizer).toBe('adafactor');
    expect(notes(adafactorM, 'axolotl').join(' ')).toMatch(/beta1 0\.9.*clip_threshold 0\.5/);
    const s = script(adafactorM);
    expect(s).toContain('from transformers import Adafactor, AutoModelForCausalLM');
    expect(s).toContain('optimizer_cls_and_kwargs=(Adafactor, {"lr": 0.0003, "eps": [1e-30, 0.001], "clip_threshold": 0.5, "decay_rate": -0.8, "beta1": 0.9, "scale_parameter": False, "relative_step": False, "warmup_init": False}),');
    expect(pyKwargs(s, 'SFTConfig')).not.toHaveProperty('optim');
    expect(notes(adafactorM, 'trl')).toEqual([]);
    expect(torchtune(adafactorM).optimizer).toEqual({
      _component_: 'transformers.optimization.Adafactor', lr: 3e-4, eps: [1e-30, 1e-3], clip_threshold: 0.5, decay_rate: -0.8, beta1: 0.9,
      scale_parameter: false, relative_step: false, warmup_init: false, weight_decay: 0.1,
    });
    expect(torchtune(adafactor).optimizer).toMatchObject({ beta1: null });
  });

  it('Sophia: no trainer has it; each trains AdamW and its note says so', () => {
    expect(axolotl(sophia)).toMatchObject({ optimizer: 'adamw_torch', adam_beta1: 0.9, adam_beta2: 0.999 });
    expect(pyKwargs(script(sophia), 'SFTConfig')).toMatchObject({ optim: 'adamw_torch' });
    expect(torchtune(sophia).optimizer).toMatchObject({ _component_: 'torch.optim.AdamW' });
    for (const t of ['axolotl', 'trl', 'torchtune'] as const) {
      expect(notes(sophia, t).join(' ')).toMatch(/Sophia \(SophiaG\) is not available in .*trains with AdamW/);
    }
    expect(script(sophia)).toContain('Sophia (SophiaG) is not available in TRL');
  });

  it.skipIf(!python)('the TRL scripts compile (python3 -m py_compile)', () => {
    for (const c of [lion, adafactor, adafactorM, sophia]) expect(pyCompile(script(c))).toBe('');
  });
});
