import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/context';
import type { ModelConfig } from '../../src/config/model-config';
import { createDecoder, createDecoderBase, type Decoder } from '../../src/model/generate';
import type { LoraConfig } from '../../src/config/lora-config';
import { loraLayout } from '../../src/model/plan/lora-layout';
import { loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { packWeight, unpackWeight } from '../../src/reference/quant/packed';
import { testGpu, mismatches } from '../gpu/gpu';
import { loraWeightsOf, promptIds, randomLoraParams, referenceNextLogits } from './helpers';

const gpu = await testGpu();
const engine = gpu ? createEngine(gpu) : null;
afterAll(() => engine?.pool.destroyAll());

const loraConfig = (targetModules: LoraConfig['targetModules'], over: Partial<LoraConfig> = {}): LoraConfig => ({
  r: 3, alpha: 6, dropout: 0, useRslora: false, targetModules, rankPattern: {}, alphaPattern: {}, ...over,
});
const ALL = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'lm_head'] as const;

/**
 * Prompt of `promptLen` (through the prefill chunks), then `steps` decode steps: every step's logits
 * against the reference on the whole sequence so far.
 */
async function checkAgainstReference(dec: Decoder, model: ModelConfig, weights: Map<string, Float32Array>, lora: ReturnType<typeof loraWeightsOf>, promptLen: number, steps: number, useAdapter = dec.hasAdapter) {
  const ids = promptIds(model.vocabSize, promptLen + steps, promptLen * 31 + steps);
  dec.reset(useAdapter);
  let got = await dec.feed(ids.slice(0, promptLen));
  for (let t = promptLen; ; t++) {
    const want = referenceNextLogits(model, weights, lora, ids.slice(0, t));
    const bad = mismatches(got, want, 1e-4, 0);
    expect(bad, `logits after ${t} tokens`).toBeNull();
    if (t === promptLen + steps) break;
    got = await dec.feed([ids[t]]);
  }
  expect(dec.position).toBe(promptLen + steps);
}

describe.skipIf(!engine)('decoder with a KV cache against the CPU reference', () => {
  const e = engine!;

  const cases: { name: string; model: ModelConfig; targets: LoraConfig['targetModules'] | null; vocabChunk: number; rankPattern?: Record<string, number> }[] = [
    { name: 'GQA, q/k/v bias, tied embeddings, LoRA on every module incl. lm_head', model: tinyModelConfig({ attentionBias: true, tieWordEmbeddings: true }), targets: [...ALL], vocabChunk: 4096 },
    { name: 'untied head in two vocabulary chunks with a head LoRA, rank pattern', model: tinyModelConfig(), targets: ['q_proj', 'v_proj', 'down_proj', 'lm_head'], vocabChunk: 64, rankPattern: { 'model.layers.1.self_attn.q_proj': 5 } },
    { name: 'no adapter, multi-query attention (KV = 1)', model: tinyModelConfig({ numKvHeads: 1, numLayers: 3 }), targets: null, vocabChunk: 4096 },
  ];
  for (const c of cases) {
    it(`${c.name}: every decode step matches, rope past position 17`, async () => {
      const weights = tinyWeights(c.model, 4);
      const base = await createDecoderBase(e, c.model, { load: loaderOf(weights), vocabChunk: c.vocabChunk });
      const layout = c.targets ? loraLayout(c.model, loraConfig(c.targets, { rankPattern: c.rankPattern ?? {} })) : null;
      const flat = layout ? randomLoraParams(layout, 9) : null;
      const dec = await createDecoder(e, c.model, base, layout && flat ? { layout, params: flat } : null, { maxLen: 24, prefillChunk: 8 });
      const lora = layout && flat ? loraWeightsOf(layout, flat) : new Map();
      await checkAgainstReference(dec, c.model, weights, lora, 11, 12); // chunks of 8 + 3, then positions 11 .. 22
      if (layout) {
        // the same decoder runs the base model alone, and the adapter really changes the logits
        await checkAgainstReference(dec, c.model, weights, new Map(), 9, 3, false);
        dec.reset(true);
        const withLora = await dec.feed([1, 2, 3]);
        dec.reset(false);
        const without = await dec.feed([1, 2, 3]);
        expect(mismatches(withLora, without, 1e-2, 0)).not.toBeNull();
      }
      dec.destroy();
    });
  }

  it('prompts of one token and of exactly one chunk, and a cache filled to maxLen', async () => {
    const model = tinyModelConfig({ attentionBias: true });
    const weights = tinyWeights(model, 5);
    const base = await createDecoderBase(e, model, { load: loaderOf(weights) });
    const layout = loraLayout(model, loraConfig(['k_proj', 'o_proj', 'up_proj']));
    const flat = randomLoraParams(layout, 2);
    const dec = await createDecoder(e, model, base, { layout, params: flat }, { maxLen: 20, prefillChunk: 4 });
    const lora = loraWeightsOf(layout, flat);
    await checkAgainstReference(dec, model, weights, lora, 1, 3);
    await checkAgainstReference(dec, model, weights, lora, 4, 16); // fills all 20 positions
    await expect(dec.feed([1])).rejects.toThrow(/do not fit the cache of 20 positions/);
    dec.destroy();
  });

  it('NF4 base weights: matches the reference on the dequantized weights', async () => {
    const model = tinyModelConfig();
    const weights = tinyWeights(model, 6);
    const deq = new Map([...weights].map(([n, w]) => [n, /_proj\.weight$|^lm_head\.weight$/.test(n) ? unpackWeight(packWeight(w, 'nf4')) : w]));
    const base = await createDecoderBase(e, model, { load: loaderOf(weights), format: 'nf4' });
    const layout = loraLayout(model, loraConfig(['q_proj', 'gate_proj']));
    const flat = randomLoraParams(layout, 3);
    const dec = await createDecoder(e, model, base, { layout, params: flat }, { maxLen: 24, prefillChunk: 8 });
    await checkAgainstReference(dec, model, deq, loraWeightsOf(layout, flat), 10, 9);
    dec.destroy();
  });
});
