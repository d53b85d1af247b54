import { describe, expect, it } from 'vitest';
import { forward, lossAndGrads } from '../../src/reference/index';
import { expectGradMatchesFd } from './helpers';
import { expectFloat32TracksFloat64, SPECS, tinyProblem } from './random-model';

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
    expectFloat32TracksFloat64(SPECS[0]);
  });
});
