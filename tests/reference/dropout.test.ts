import { describe, expect, it } from 'vitest';
import { forward, lossAndGrads, type LoraGrad } from '../../src/reference/index';
import { loraModuleId, seededDropout, type DropoutOptions } from '../../src/reference/dropout';
import { expectGradMatchesFd, rng, sampleIndices } from './helpers';
import { SPECS, tinyProblem } from './random-model';

const spec = SPECS[0];
const problem = () => tinyProblem(spec);

function flat(grads: Map<string, LoraGrad>): number[] {
  return [...grads.values()].flatMap((g) => [...g.dA, ...g.dB]);
}

describe('LoRA dropout', () => {
  it('p = 0 equals no dropout, bit for bit', () => {
    const { model, lora, tokens, targets } = problem();
    const none = lossAndGrads(model, lora, tokens, targets, spec.B, spec.T);
    const zero = lossAndGrads(model, lora, tokens, targets, spec.B, spec.T, { dropout: seededDropout(1, 1, 0) });
    expect(zero.loss).toBe(none.loss);
    expect(flat(zero.grads)).toEqual(flat(none.grads));
  });

  it('p > 0 changes the loss and the gradients; identical masks give identical results', () => {
    const { model, lora, tokens, targets } = problem();
    const none = lossAndGrads(model, lora, tokens, targets, spec.B, spec.T);
    const a = lossAndGrads(model, lora, tokens, targets, spec.B, spec.T, { dropout: seededDropout(42, 3, 0.3) });
    const b = lossAndGrads(model, lora, tokens, targets, spec.B, spec.T, { dropout: seededDropout(42, 3, 0.3) });
    const c = lossAndGrads(model, lora, tokens, targets, spec.B, spec.T, { dropout: seededDropout(42, 4, 0.3) });
    expect(a.loss).not.toBe(none.loss);
    expect(flat(a.grads)).not.toEqual(flat(none.grads));
    expect(b.loss).toBe(a.loss);
    expect(flat(b.grads)).toEqual(flat(a.grads));
    expect(flat(c.grads)).not.toEqual(flat(a.grads)); // another step draws other masks
  });

  it('asks for one mask per LoRA module, n = rows * in_features, and uses it in the backward', () => {
    const { model, lora, tokens, targets } = problem();
    const asked = new Map<string, number>();
    const rand = rng(5);
    const masks = new Map<string, Uint8Array>();
    const dropout: DropoutOptions = {
      p: 0.4,
      mask: (path, n) => {
        asked.set(path, n);
        if (!masks.has(path)) masks.set(path, Uint8Array.from({ length: n }, () => (rand() < 0.6 ? 1 : 0)));
        return masks.get(path)!;
      },
    };
    const { grads } = lossAndGrads(model, lora, tokens, targets, spec.B, spec.T, { dropout });
    expect([...asked.keys()].sort()).toEqual([...lora.keys()].sort());
    expect(asked.get('model.layers.0.mlp.down_proj')).toBe(spec.B * spec.T * spec.ffn);
    // With the masks fixed the loss is a smooth function of the LoRA weights: check by FD.
    const f = () => forward(model, lora, tokens, targets, spec.B, spec.T, { dropout }).loss;
    const pick = rng(6);
    for (const path of ['model.layers.0.self_attn.q_proj', 'model.layers.1.mlp.down_proj', 'lm_head']) {
      const m = lora.get(path)!;
      const g = grads.get(path)!;
      expectGradMatchesFd(`${path} dA (dropout)`, f, m.A, g.dA, sampleIndices(pick, m.A.length, 30), { h: 1e-5, atol: 1e-9, rtol: 1e-6 });
      expectGradMatchesFd(`${path} dB (dropout)`, f, m.B, g.dB, sampleIndices(pick, m.B.length, 30), { h: 1e-5, atol: 1e-9, rtol: 1e-6 });
    }
  });

  it('names each module by (layer, module index), lm_head as layer 0', () => {
    expect(loraModuleId('model.layers.2.self_attn.v_proj')).toEqual({ layer: 2, moduleIndex: 2 });
    expect(loraModuleId('lm_head')).toEqual({ layer: 0, moduleIndex: 7 });
    expect(() => loraModuleId('base_model.model.lm_head')).toThrow();
  });

  it('keeps about 1 - p of the elements, independently per module', () => {
    const n = 200_000;
    const d = seededDropout(1, 1, 0.1);
    const q = d.mask('model.layers.0.self_attn.q_proj', n);
    const k = d.mask('model.layers.0.self_attn.k_proj', n);
    const kept = q.reduce((s, x) => s + x, 0) / n;
    expect(Math.abs(kept - 0.9)).toBeLessThan(0.005);
    let same = 0;
    for (let i = 0; i < n; i++) same += q[i] === k[i] ? 1 : 0;
    expect(Math.abs(same / n - (0.9 * 0.9 + 0.1 * 0.1))).toBeLessThan(0.005);
  });
});
