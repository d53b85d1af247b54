import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/context';
import { createDecoder, createDecoderBase, decoderLoraFromPeft } from '../../src/model/generate';
import { loadGoldenCase } from '../../src/cli/golden/golden-case';
import { mergeLinear } from '../../src/model/merge/delta';
import { linearForward } from '../../src/reference/ops/linear';
import { doraForward, doraWeightNorm } from '../../src/reference/ops/dora';
import { loraScaling } from '../../src/config/lora-config';
import { loaderOf } from '../../src/model/synthetic';
import { mismatches, testGpu } from '../gpu/gpu';

const gpu = await testGpu();
const engine = gpu ? createEngine(gpu) : null;
afterAll(() => engine?.pool.destroyAll());

// The PEFT DoRA adapter of the golden case (scripts/golden/make_golden.py --dora) and PyTorch's logits.
const c = await loadGoldenCase('tests/fixtures/golden/qwen3-tiny-dora');

describe.skipIf(!engine)('DoRA in generation', () => {
  it('prefill and single-token steps give PyTorch\'s logits of the DoRA model', async () => {
    const e = engine!;
    const weights = new Map([...c.weights].map(([k, v]) => [k, new Float32Array(v)]));
    const dl = decoderLoraFromPeft(c.config, c.adapter);
    expect(dl.layout.slots.every((s) => s.offsetM !== undefined)).toBe(true);
    const dec = await createDecoder(e, c.config, await createDecoderBase(e, c.config, { load: loaderOf(weights) }), dl, { maxLen: c.T, prefillChunk: 4 });
    const V = c.config.vocabSize;
    const want = await c.expected.readF32('logits'); // (B, T, V)
    const ids = Array.from(c.tokens.subarray(0, c.T));
    dec.reset();
    const check = (got: Float32Array, t: number) => expect(mismatches(got, want.subarray(t * V, (t + 1) * V), 2e-4, 1e-4), `position ${t}`).toBeNull();
    check(await dec.feed(ids.slice(0, 6)), 5); // two prefill chunks
    for (let t = 6; t < c.T; t++) check(await dec.feed([ids[t]]), t);
    dec.destroy();
  });
});

describe('DoRA merge', () => {
  it('W_merged = m (W + s B A) / ||W + s B A||_row reproduces the DoRA layer\'s output', () => {
    const t = c.adapter.tensors[0];
    const W = c.weights.get(`${t.path}.weight`)!;
    const { outFeatures: Out, inFeatures: In, r } = t;
    const s = loraScaling(r, t.alpha, false);
    const merged = new Float32Array(Out * In);
    mergeLinear(merged, 'F32', W, Out, In, [{ A: t.A, B: t.B, r, coef: s, magnitude: t.M }]);
    const N = 3;
    const x = Float64Array.from({ length: N * In }, (_, i) => Math.sin(i));
    const viaMerge = new Float64Array(N * Out);
    linearForward(viaMerge, x, Float64Array.from(merged), null, N, In, Out);
    const viaDora = new Float64Array(N * Out);
    linearForward(viaDora, x, Float64Array.from(W), null, N, In, Out);
    const norm = new Float64Array(Out);
    doraWeightNorm(norm, Float64Array.from(W), Float64Array.from(t.A), Float64Array.from(t.B), s, In, r, Out);
    doraForward(viaDora, new Float64Array(N * r), x, Float64Array.from(W), Float64Array.from(t.A), Float64Array.from(t.B), Float64Array.from(t.M!), norm, s, null, N, In, r, Out);
    expect(mismatches(viaMerge, viaDora, 1e-5, 1e-5)).toBeNull();
  });

  it('refuses to mix a DoRA adapter with another on the same module', () => {
    const t = c.adapter.tensors[0];
    expect(() => mergeLinear(new Float32Array(t.outFeatures * t.inFeatures), 'F32', c.weights.get(`${t.path}.weight`)!, t.outFeatures, t.inFeatures,
      [{ A: t.A, B: t.B, r: t.r, coef: 1, magnitude: t.M }, { A: t.A, B: t.B, r: t.r, coef: 1 }])).toThrow(/DoRA term/);
  });
});
