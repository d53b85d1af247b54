import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/context';
import { createDecoder, createDecoderBase, decoderLoraFromPeft } from '../../src/model/generate';
import { mergeAdaptersToBytes } from '../../src/model/merge';
import { bytesSource, openSafetensors } from '../../src/io/safetensors';
import { exportPeftAdapter } from '../../src/io/peft';
import { loadGoldenCase } from '../../src/cli/golden/golden-case';
import { forward } from '../../src/reference';
import { loaderOf } from '../../src/model/synthetic';
import { mismatches, testGpu } from '../gpu/gpu';

const gpu = await testGpu();
const engine = gpu ? createEngine(gpu) : null;
afterAll(() => engine?.pool.destroyAll());

// DoRA on an untied lm_head (scripts/golden/make_golden.py --dora, qwen3-untied-dora-head) and PyTorch's logits.
const DIR = 'tests/fixtures/golden/qwen3-untied-dora-head';
const c = await loadGoldenCase(DIR);
const V = c.config.vocabSize;
const ids = Array.from(c.tokens.subarray(0, c.T));
const weights = new Map([...c.weights].map(([k, v]) => [k, new Float32Array(v)]));
const want = await c.expected.readF32('logits'); // (B, T, V)
const at = (t: number) => want.subarray(t * V, (t + 1) * V);

describe.skipIf(!engine)('DoRA on the LM head in generation', () => {
  for (const vocabChunk of [4096, 64]) {
    it(`prefill and single-token steps give PyTorch's logits (head chunks of ${Math.min(vocabChunk, V)} rows)`, async () => {
      const e = engine!;
      const base = await createDecoderBase(e, c.config, { load: loaderOf(weights), vocabChunk });
      const dec = await createDecoder(e, c.config, base, decoderLoraFromPeft(c.config, c.adapter), { maxLen: c.T, prefillChunk: 4 });
      const check = (got: Float32Array, t: number) => expect(mismatches(got, at(t), 2e-4, 1e-4), `position ${t}`).toBeNull();
      dec.reset();
      check(await dec.feed(ids.slice(0, 6)), 5); // two prefill chunks
      for (let t = 6; t < c.T; t++) check(await dec.feed([ids[t]]), t);
      // a sequence that starts with a single token still gets the norms (run at its start)
      dec.reset();
      check(await dec.feed([ids[0]]), 0);
      dec.destroy();
    });
  }
});

describe('DoRA on the LM head: merge and PEFT export', () => {
  it('the merged model (lm_head.weight = m (W + s B A) / ||W + s B A||_row) gives PyTorch\'s logits on the CPU reference', async () => {
    const base = { configJson: readFileSync(`${DIR}/config.json`, 'utf8'), tensors: [...weights.keys()], load: loaderOf(weights) };
    const { weights: bytes } = await mergeAdaptersToBytes(base, [{ adapter: c.adapter, weight: 1 }], { dtype: 'F32' });
    const f = await openSafetensors(bytesSource(bytes, 'model.safetensors'));
    const merged = new Map<string, Float32Array>();
    for (const name of f.names()) merged.set(name, await f.readF32(name));
    expect(mismatches(merged.get('lm_head.weight')!, weights.get('lm_head.weight')!, 1e-3, 0)).not.toBeNull(); // the head did change
    const got = forward({ config: c.config, weights: merged }, new Map(), Int32Array.from(ids), new Int32Array(c.T).fill(-100), 1, c.T).logits;
    expect(mismatches(Float32Array.from(got), want.subarray(0, c.T * V), 2e-4, 1e-4)).toBeNull();
  });

  it('exports lm_head\'s magnitude under PEFT\'s key, [V]', async () => {
    const out = exportPeftAdapter(c.adapter);
    const f = await openSafetensors(bytesSource(out.weights, 'adapter_model.safetensors'));
    expect(f.info('base_model.model.lm_head.lora_magnitude_vector').shape).toEqual([V]);
    expect(f.info('base_model.model.lm_head.lora_A.weight').shape).toEqual([c.adapter.config.r, c.config.hiddenSize]);
    expect(JSON.parse(out.configJson).use_dora).toBe(true);
  });
});
