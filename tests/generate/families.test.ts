/**
 * Generation with the KV cache for Qwen3, Gemma 3 and Gemma 2: every decode step's logits against
 * the CPU reference on the whole sequence, well past the sliding windows (4-5 tokens) so local
 * layers must forget what full ones keep, and greedy tokens equal to a greedy loop over the
 * reference's full forward.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { LoraConfig } from '../../src/config/lora-config';
import { createEngine } from '../../src/engine/context';
import { createDecoder, createDecoderBase } from '../../src/model/generate';
import { loraLayout } from '../../src/model/plan/lora-layout';
import { loaderOf, tinyWeights } from '../../src/model/synthetic';
import { mismatches, testGpu } from '../gpu/gpu';
import { FAMILIES } from '../graph/families';
import { loraWeightsOf, promptIds, randomLoraParams, referenceGreedy, referenceNextLogits } from './helpers';

const gpu = await testGpu();
const engine = gpu ? createEngine(gpu) : null;
afterAll(() => engine?.pool.destroyAll());

const lora: LoraConfig = {
  r: 3, alpha: 6, dropout: 0, useRslora: false, rankPattern: {}, alphaPattern: {},
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head'],
};

describe.skipIf(!engine)('generation for Qwen3 and Gemma against the CPU reference', () => {
  for (const [family, model] of Object.entries(FAMILIES)) {
    it(`${family}: decode steps past the window match the full forward, and greedy tokens equal the reference's`, async () => {
      const e = engine!;
      const weights = tinyWeights(model, 6);
      const base = await createDecoderBase(e, model, { load: loaderOf(weights), vocabChunk: 64 });
      const layout = loraLayout(model, lora);
      const flat = randomLoraParams(layout, 12);
      const dec = await createDecoder(e, model, base, { layout, params: flat }, { maxLen: 24, prefillChunk: 8 });
      const ref = loraWeightsOf(layout, flat);
      const ids = promptIds(model.vocabSize, 20, 41);
      dec.reset(true);
      let got = await dec.feed(ids.slice(0, 11)); // prefill chunks of 8 + 3
      for (let t = 11; ; t++) {
        expect(mismatches(got, referenceNextLogits(model, weights, ref, ids.slice(0, t)), 1e-4, 1e-4), `logits after ${t} tokens`).toBeNull();
        if (t === 20) break;
        got = await dec.feed([ids[t]]);
      }
      const prompt = ids.slice(0, 7);
      expect(await dec.generate(prompt, { maxNewTokens: 12, stopIds: [] })).toEqual(referenceGreedy(model, weights, ref, prompt, 12));
      dec.destroy();
    });
  }
});
