import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/context';
import { createDecoder, createDecoderBase, decoderLoraFromPeft, planDecoderMemory, type GenerateOptions } from '../../src/model/generate';
import { buildTrainGraph } from '../../src/model/graph/train-graph';
import { writeFlat } from '../../src/model/graph/lora-state';
import { loraLayout } from '../../src/model/plan/lora-layout';
import { loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import type { PeftAdapter } from '../../src/io/peft';
import { parseRunConfig } from '../../src/config/run-config';
import { mismatches, testGpu } from '../gpu/gpu';
import { loraWeightsOf, promptIds, randomLoraParams, referenceGreedy, referenceNextLogits } from './helpers';

const gpu = await testGpu();
const engine = gpu ? createEngine(gpu) : null;
afterAll(() => engine?.pool.destroyAll());

const model = tinyModelConfig({ attentionBias: true, eosTokenId: 2 });
const weights = tinyWeights(model, 8);
const layout = loraLayout(model, { r: 4, alpha: 8, dropout: 0, useRslora: false, targetModules: ['q_proj', 'v_proj', 'up_proj', 'lm_head'], rankPattern: {}, alphaPattern: {} });
const flat = randomLoraParams(layout, 21, 0.5);
const lora = loraWeightsOf(layout, flat);
const prompt = promptIds(model.vocabSize, 6, 4);

describe.skipIf(!engine)('generation', () => {
  const e = engine!;
  const make = async (maxLen = 32) => createDecoder(e, model, await createDecoderBase(e, model, { load: loaderOf(weights) }), { layout, params: flat }, { maxLen, prefillChunk: 8 });

  it('greedy generation equals a greedy loop over the CPU reference, with and without the adapter', async () => {
    const dec = await make();
    const streamed: number[] = [];
    const got = await dec.generate(prompt, { maxNewTokens: 14, stopIds: [], onToken: (id, info) => streamed.push(id + 1000 * info.index) });
    expect(got).toEqual(referenceGreedy(model, weights, lora, prompt, 14));
    expect(streamed).toEqual(got.map((id, i) => id + 1000 * i));
    expect(dec.lastStats).toMatchObject({ promptTokens: 6, newTokens: 14, stopReason: 'maxTokens' });
    const base = await dec.generate(prompt, { maxNewTokens: 14, stopIds: [], useAdapter: false });
    expect(base).toEqual(referenceGreedy(model, weights, new Map(), prompt, 14));
    expect(base).not.toEqual(got);
  });

  it('the same seed gives the same sample, another seed another; top-k 1 is greedy', async () => {
    const dec = await make();
    const opts: GenerateOptions = { maxNewTokens: 20, temperature: 1, topK: 30, topP: 0.95, stopIds: [] };
    const a = await dec.generate(prompt, { ...opts, seed: 5 });
    const b = await dec.generate(prompt, { ...opts, seed: 5 });
    const c = await dec.generate(prompt, { ...opts, seed: 6 });
    expect(a).toHaveLength(20);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    const greedy = await dec.generate(prompt, { maxNewTokens: 10, stopIds: [] });
    expect(await dec.generate(prompt, { maxNewTokens: 10, temperature: 1.5, topK: 1, seed: 3, stopIds: [] })).toEqual(greedy);
  });

  it('stops at a stop id (not returned), at the end of the cache, and on abort', async () => {
    const dec = await make(20);
    const greedy = await dec.generate(prompt, { maxNewTokens: 10, stopIds: [] });
    const k = greedy.findIndex((id, i) => i > 0 && greedy.indexOf(id) === i);
    expect(await dec.generate(prompt, { maxNewTokens: 10, stopIds: [greedy[k]] })).toEqual(greedy.slice(0, k));
    expect(dec.lastStats).toMatchObject({ stopReason: 'stop', stopId: greedy[k] });

    // 6 prompt tokens + 14 new ones fill the 20 positions; a 15th is sampled from the last row's logits
    const long = await dec.generate(prompt, { maxNewTokens: 100, stopIds: [] });
    expect(long).toHaveLength(15);
    expect(long.slice(0, 10)).toEqual(greedy);
    expect(dec.lastStats?.stopReason).toBe('length');
    expect(dec.position).toBe(20);

    const ctrl = new AbortController();
    const partial = await dec.generate(prompt, { maxNewTokens: 10, stopIds: [], signal: ctrl.signal, onToken: (_, info) => info.index === 2 && ctrl.abort() });
    expect(partial).toEqual(greedy.slice(0, 3));
    expect(dec.lastStats?.stopReason).toBe('aborted');
    // the model's eos_token_id (a number or a list) is the default stop id: the same draws, cut before it
    const free = await dec.generate(prompt, { maxNewTokens: 14, temperature: 2, seed: 1, stopIds: [] });
    const eos = free.find((id, i) => i >= 3 && free.indexOf(id) === i)!;
    const eosModel = { ...model, eosTokenId: [66, eos] };
    const withEos = await createDecoder(e, eosModel, await createDecoderBase(e, eosModel, { load: loaderOf(weights) }), { layout, params: flat }, { maxLen: 20 });
    expect(await withEos.generate(prompt, { maxNewTokens: 14, temperature: 2, seed: 1 })).toEqual(free.slice(0, free.indexOf(eos)));
    expect(withEos.lastStats).toMatchObject({ stopReason: 'stop', stopId: eos });
    withEos.destroy();

    await expect(dec.generate([], {})).rejects.toThrow(/prompt is empty/);
    await expect(dec.generate(promptIds(model.vocabSize, 21, 1), {})).rejects.toThrow(/21 tokens but the decoder holds 20/);
    await expect(dec.generate([1, 99], {})).rejects.toThrow(/outside the vocabulary/);
    await expect(dec.generate(prompt, { topP: 2, temperature: 1 })).rejects.toThrow(/topP/);
  });

  it('reads a training graph\'s base weights and LoRA buffer in place (no second copy)', async () => {
    const eng = createEngine(gpu!);
    const run = parseRunConfig({ maxSeqLen: 8, microBatch: 2, rank: 4, alpha: 8, targets: ['query', 'value', 'mlp', 'head'], vocabChunk: 64 });
    const g = await buildTrainGraph(eng, model, run, { load: loaderOf(weights) });
    const trained = randomLoraParams(g.layout, 4);
    writeFlat(eng.gpu.device.queue, g.lora.params, trained);
    const before = eng.pool.ledgerSnapshot();
    const dec = await createDecoder(eng, model, g.base, { layout: g.layout, params: g.lora.params }, { maxLen: 16 });
    const during = eng.pool.ledgerSnapshot();
    expect(during.current.weights).toBe(before.current.weights);
    expect(during.current.lora).toBe(before.current.lora);
    expect(during.current.activations).toBeGreaterThan(before.current.activations);
    const ids = promptIds(model.vocabSize, 9, 2);
    dec.reset();
    const got = await dec.feed(ids);
    expect(mismatches(got, referenceNextLogits(model, weights, loraWeightsOf(g.layout, trained), ids), 1e-4, 0)).toBeNull();
    dec.destroy();
    expect(eng.pool.ledgerSnapshot().current).toEqual(before.current);
    eng.pool.destroyAll();
  });

  it('applies an imported PEFT adapter that adapts only some layers', async () => {
    const slots = layout.slots.filter((s) => s.layer !== 0); // layer 1 and lm_head only (layers_to_transform)
    const adapter: PeftAdapter = {
      config: { r: 4, alpha: 8, dropout: 0, useRslora: true, targetModules: ['q_proj', 'v_proj', 'up_proj', 'lm_head'], rankPattern: {}, alphaPattern: {} },
      baseModel: '',
      tensors: slots.map((s) => ({
        path: s.path, module: s.module, layer: s.layer, r: s.r, alpha: s.alpha, inFeatures: s.inFeatures, outFeatures: s.outFeatures,
        A: flat.slice(s.offsetA, s.offsetA + s.r * s.inFeatures), B: flat.slice(s.offsetB, s.offsetB + s.outFeatures * s.r),
      })),
    };
    const dl = decoderLoraFromPeft(model, adapter);
    expect(dl.layout.slots.map((s) => s.path)).toEqual(slots.map((s) => s.path));
    expect(dl.layout.slots[0].scale).toBeCloseTo(8 / 2); // rsLoRA: alpha / sqrt(r)
    const dec = await createDecoder(e, model, await createDecoderBase(e, model, { load: loaderOf(weights) }), dl, { maxLen: 16 });
    const ids = promptIds(model.vocabSize, 7, 9);
    dec.reset();
    const got = await dec.feed(ids);
    const ref = loraWeightsOf(dl.layout, dl.params as Float32Array);
    expect(ref.size).toBe(slots.length);
    expect(mismatches(got, referenceNextLogits(model, weights, ref, ids), 1e-4, 0)).toBeNull();
    dec.destroy();
  });

  it('the memory plan equals what a decoder adds to the ledger; two decoders share one base side by side', async () => {
    const eng = createEngine(gpu!);
    const base = await createDecoderBase(eng, model, { load: loaderOf(weights), vocabChunk: 64 });
    await eng.placeholder(); // engine-wide, outside the plan
    for (const [lora, uploaded] of [[null, false], [{ layout, params: flat }, true]] as const) {
      const before = eng.pool.ledgerSnapshot().current;
      const dec = await createDecoder(eng, model, base, lora, { maxLen: 40, prefillChunk: 16 });
      const after = eng.pool.ledgerSnapshot().current;
      const plan = await planDecoderMemory(model, lora ? { layout, uploaded } : null, { maxLen: 40, prefillChunk: 16, vocabChunk: 64 }, gpu!.limits);
      for (const c of Object.keys(after) as (keyof typeof after)[]) expect(after[c] - before[c], c).toBe(plan.byCategory[c]);
      expect(plan.byCategory.weights).toBe(0);
      expect(plan.byCategory.activations).toBeGreaterThanOrEqual(2 * model.numLayers * 40 * model.numKvHeads * model.headDim * 4);
      dec.destroy();
    }
    const [withAdapter, without] = await Promise.all([
      createDecoder(eng, model, base, { layout, params: flat }, { maxLen: 32 }),
      createDecoder(eng, model, base, null, { maxLen: 32 }),
    ]);
    const [a, b] = await Promise.all([
      withAdapter.generate(prompt, { maxNewTokens: 8, stopIds: [] }),
      without.generate(prompt, { maxNewTokens: 8, stopIds: [] }),
    ]);
    expect(a).toEqual(referenceGreedy(model, weights, lora, prompt, 8));
    expect(b).toEqual(referenceGreedy(model, weights, new Map(), prompt, 8));
    await expect(Promise.all([withAdapter.generate(prompt, {}), withAdapter.generate(prompt, {})])).rejects.toThrow(/already generating/);
    eng.pool.destroyAll();
  });

  it('refuses an adapter for another model, and a cache longer than the model allows', async () => {
    const base = await createDecoderBase(e, model, { load: loaderOf(weights) });
    const other = tinyModelConfig({ hiddenSize: 48, headDim: 12 });
    const wrong = loraLayout(other, { r: 2, alpha: 2, dropout: 0, useRslora: false, targetModules: ['q_proj'], rankPattern: {}, alphaPattern: {} });
    await expect(createDecoder(e, model, base, { layout: wrong, params: new Float32Array(wrong.length) }, { maxLen: 8 })).rejects.toThrow(/q_proj" is \[out=48, in=48\] but the model's q_proj is \[out=32, in=32\]/);
    await expect(createDecoder(e, model, base, { layout, params: new Float32Array(5) }, { maxLen: 8 })).rejects.toThrow(/hold 5 values but the layout needs/);
    await expect(createDecoder(e, model, base, null, { maxLen: 65 })).rejects.toThrow(/max_position_embeddings \(64\)/);
  });
});
