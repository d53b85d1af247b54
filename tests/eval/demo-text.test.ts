// Text items on a model with a tokenizer (the bundled demo): acc_norm divides by the UTF-8 bytes of
// each choice's text; trailing context whitespace moves to the choice (lm-eval); exact match runs
// greedy generation with a stop string.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireGpu, type Gpu } from '../../src/engine/device';
import { nodeGpu } from '../../src/engine/node-gpu';
import { openModelSpec } from '../../src/io/model-source/node';
import type { ModelSource } from '../../src/io/model-source/model';
import type { ModelTokenizer } from '../../src/data/tokenizer';
import { encodePair, evaluateExact, evaluateMultipleChoice, parseExactTask, parseMcTask } from '../../src/train/eval';

let gpu: Gpu;
let model: ModelSource;
let tok: ModelTokenizer;
beforeAll(async () => {
  gpu = await acquireGpu(await nodeGpu());
  model = await openModelSpec('public/demo');
  tok = await model.tokenizer();
});
afterAll(async () => {
  gpu?.device.destroy();
  await model?.close();
});

describe('evaluation on the demo model (text items)', () => {
  it('acc_norm uses byte lengths of the choice text', async () => {
    expect(encodePair(tok, 'Mr. Darcy ', 'was')).toEqual(encodePair(tok, 'Mr. Darcy', ' was'));
    const text = [
      '{"context": "Mr. Darcy", "choices": [" was", " café", " the the the"], "answer": 0}',
      '{"context": "Q: What is the opposite of hot?\\nA: ", "choices": ["Cold.", "the the"], "answer": 0}',
    ].join('\n');
    const items = parseMcTask(text, 'demo-task', model.config.vocabSize);
    const r = await evaluateMultipleChoice({ gpu, model: model.config, load: model.loader(), adapter: null, pad: tok.pad }, items, tok);
    expect(r.acc_norm_length).toBe('bytes');
    expect(r.per_example[0].lengths).toEqual([4, 6, 12]); // " café" is 6 bytes, 5 characters
    for (const e of r.per_example) {
      const norm = e.loglikelihoods.map((ll, k) => ll / e.lengths[k]);
      expect(e.pred_norm).toBe(norm.indexOf(Math.max(...norm)));
      expect(e.pred).toBe(e.loglikelihoods.indexOf(Math.max(...e.loglikelihoods)));
      for (const ll of e.loglikelihoods) expect(ll).toBeLessThan(0);
    }
  }, 90_000);

  it('exact match: greedy generation, cut at the stop string', async () => {
    const items = parseExactTask('{"prompt": "Mr. Darcy", "answer": "the the"}\n{"prompt": "She was", "answer": "HE", "stop": " t"}', 'demo-exact');
    const r = await evaluateExact({ gpu, model: model.config, load: model.loader(), adapter: null }, items, tok, { maxNewTokens: 8, normalize: { whitespace: true, case: true } });
    expect(r.n).toBe(2);
    // The base model continues "Mr. Darcy" with " the the the ..." and "She was" with " he the and ..." (public/demo/README.md).
    expect(r.per_example.map((e) => e.prediction)).toEqual([' the the', ' he']);
    expect(r.exact_match).toBe(1);
  }, 90_000);
});
