import { describe, expect, it } from 'vitest';
import { forward, lossAndGrads } from '../../src/reference/index';
import { expectClose, expectGradMatchesFd } from './helpers';
import { SPECS, tinyProblem } from './random-model';

// The whole model in float64: every LoRA parameter's analytic gradient against central differences.
describe('model LoRA gradients vs finite differences (float64)', () => {
  for (const spec of SPECS) {
    const name = `hidden ${spec.hidden}, heads ${spec.heads}/${spec.kvHeads}, vocab ${spec.vocab}, B ${spec.B}, T ${spec.T}, ${spec.tied ? 'tied' : 'untied'}, bias ${spec.bias ? 'on' : 'off'}`;
    it(name, () => {
      const { model, lora, tokens, targets } = tinyProblem(spec);
      const { loss, count, grads } = lossAndGrads(model, lora, tokens, targets, spec.B, spec.T);
      expect(Number.isFinite(loss)).toBe(true);
      expect(count).toBeGreaterThan(0);
      expect(grads.size).toBe(spec.layers * 7 + 1);
      const f = () => forward(model, lora, tokens, targets, spec.B, spec.T).loss;
      let worst = 0;
      let params = 0;
      for (const [path, m] of lora) {
        const g = grads.get(path)!;
        const all = (n: number) => Array.from({ length: n }, (_, i) => i);
        worst = Math.max(worst, expectGradMatchesFd(`${path} dA`, f, m.A, g.dA, all(m.A.length), { h: 1e-5, atol: 1e-9, rtol: 1e-6 }));
        worst = Math.max(worst, expectGradMatchesFd(`${path} dB`, f, m.B, g.dB, all(m.B.length), { h: 1e-5, atol: 1e-9, rtol: 1e-6 }));
        params += m.A.length + m.B.length;
      }
      console.log(`FD model [${name}]: ${params} LoRA params, worst relative error ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-6);
    });
  }

  it('runs in the float type of the weights: float32 tracks float64', () => {
    const spec = SPECS[0];
    const p64 = tinyProblem(spec);
    const to32 = (a: Float32Array | Float64Array) => Float32Array.from(a);
    const weights = new Map([...p64.model.weights].map(([k, v]) => [k, to32(v)]));
    const lora = new Map([...p64.lora].map(([k, m]) => [k, { ...m, A: to32(m.A), B: to32(m.B) }]));
    const r64 = lossAndGrads(p64.model, p64.lora, p64.tokens, p64.targets, spec.B, spec.T);
    const r32 = lossAndGrads({ config: p64.model.config, weights }, lora, p64.tokens, p64.targets, spec.B, spec.T);
    expect(r32.logits).toBeInstanceOf(Float32Array);
    expect(r64.logits).toBeInstanceOf(Float64Array);
    expectClose('logits f32 vs f64', r32.logits, r64.logits, 1e-5, 1e-5);
    for (const [path, g] of r64.grads) {
      expect(r32.grads.get(path)!.dA).toBeInstanceOf(Float32Array);
      expectClose(`${path} dA f32 vs f64`, r32.grads.get(path)!.dA, g.dA, 1e-6, 1e-4);
      expectClose(`${path} dB f32 vs f64`, r32.grads.get(path)!.dB, g.dB, 1e-6, 1e-4);
    }
  });
});
