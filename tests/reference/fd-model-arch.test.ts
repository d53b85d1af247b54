import { describe, expect, it } from 'vitest';
import { layerWindow } from '../../src/config/architecture-features';
import { forward, lossAndGrads } from '../../src/reference/index';
import { expectGradMatchesFd } from './helpers';
import { ARCH_SPECS, expectFloat32TracksFloat64, tinyProblem } from './random-model';

// Qwen3 / Gemma 3 / Gemma 2 paths of the whole model in float64: every LoRA parameter's analytic
// gradient against central differences (q/k norms, (1 + w) sandwich norms, GeGLU, embedding scale,
// query_pre_attn_scalar, sliding and full layers with their own RoPE, softcaps).
describe('architecture features: model LoRA gradients vs finite differences (float64)', () => {
  for (const spec of ARCH_SPECS) {
    it(spec.name, () => {
      const { model, lora, tokens, targets } = tinyProblem(spec);
      const { loss, count, grads } = lossAndGrads(model, lora, tokens, targets, spec.B, spec.T);
      expect(Number.isFinite(loss)).toBe(true);
      expect(count).toBeGreaterThan(0);
      expect(grads.size).toBe(spec.layers * 7 + 1);
      const f = () => forward(model, lora, tokens, targets, spec.B, spec.T).loss;
      let worst = 0;
      let params = 0;
      const all = (n: number) => Array.from({ length: n }, (_, i) => i);
      for (const [path, m] of lora) {
        const g = grads.get(path)!;
        worst = Math.max(worst, expectGradMatchesFd(`${path} dA`, f, m.A, g.dA, all(m.A.length), { h: 1e-5, atol: 1e-9, rtol: 1e-6 }));
        worst = Math.max(worst, expectGradMatchesFd(`${path} dB`, f, m.B, g.dB, all(m.B.length), { h: 1e-5, atol: 1e-9, rtol: 1e-6 }));
        params += m.A.length + m.B.length;
      }
      console.log(`FD model [${spec.name}]: ${params} LoRA params, worst relative error ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-6);
    });
  }

  it('sliding layers attend within their window, full layers to every earlier position', () => {
    for (const spec of ARCH_SPECS.filter((s) => s.features?.slidingWindow)) {
      const { model, lora, tokens, targets } = tinyProblem(spec);
      const { cache } = forward(model, lora, tokens, targets, spec.B, spec.T);
      const kinds = new Set<string>();
      const T = spec.T;
      for (let l = 0; l < spec.layers; l++) {
        const w = layerWindow(model.config, l);
        kinds.add(w === null ? 'full' : 'sliding');
        const att = cache.layers[l].att; // (B, H, T, T); last query row of batch 0, head 0
        const row = Array.from(att.subarray((T - 1) * T, T * T));
        const seen = row.map((p) => p > 0);
        const first = w === null ? 0 : T - w;
        expect(seen).toEqual(row.map((_, j) => j >= first));
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      }
      expect(kinds).toEqual(new Set(['full', 'sliding']));
      // layers with different windows use different RoPE tables only where the config says so
      expect(cache.rope.length).toBe(model.config.localRopeTheta !== undefined ? 2 : 1);
    }
  });

  it('caps the final logits at finalLogitSoftcap', () => {
    const spec = ARCH_SPECS.find((s) => s.features?.finalLogitSoftcap)!;
    const { model, lora, tokens, targets } = tinyProblem(spec);
    const { logits } = forward(model, lora, tokens, targets, spec.B, spec.T);
    const cap = spec.features!.finalLogitSoftcap!;
    expect(Math.max(...logits.map(Math.abs))).toBeLessThan(cap);
    expect(Math.max(...logits.map(Math.abs))).toBeGreaterThan(cap / 2); // the cap bends, not a no-op
  });

  it('runs in float32 tracking float64 (Gemma 3-like)', () => {
    expectFloat32TracksFloat64(ARCH_SPECS[1]);
  });
});
