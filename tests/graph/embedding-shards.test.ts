/**
 * Vocabulary shards: with a small largest binding (8 KiB here, sizing only; the device takes the
 * rest) the embedding table is cut into shards of whole LM-head chunks, the tied head reads views
 * of them, and training, generation and the memory plan are unchanged against the reference.
 */
import { describe, expect, it } from 'vitest';
import { bf16BitsToF32, f32ToBf16Bits } from '../../src/core/half';
import { parseRunConfig } from '../../src/config/run-config';
import { epochBatches } from '../../src/data/batching';
import { createEngine } from '../../src/engine/context';
import { createDecoder, createDecoderBase } from '../../src/model/generate';
import { graphDims } from '../../src/model/graph/dims';
import { initialLoraParams, readLoraTensors } from '../../src/model/graph/lora-state';
import { buildTrainGraph } from '../../src/model/graph/train-graph';
import { planMemory } from '../../src/model/plan/memory-plan';
import { chainDataset, loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { lossAndGrads } from '../../src/reference';
import { evaluate, submitMicroBatch } from '../../src/train/step';
import { referenceNextLogits, promptIds } from '../generate/helpers';
import { mismatches, testGpu } from '../gpu/gpu';
import { FAMILIES } from './families';

const gpu = await testGpu();
const CAP = 8192;

describe('graphDims cuts the vocabulary to fit a binding', () => {
  it('chunks shrink to fit, shards hold whole chunks, everything is covered once', () => {
    const d = graphDims(tinyModelConfig({ vocabSize: 200 }), 2, 12, 4096, CAP);
    expect(d.Vc).toBe(64);
    expect(d.embedShards).toEqual([[0, 64], [64, 64], [128, 64], [192, 8]]);
    expect(d.chunks).toEqual([[0, 64], [64, 64], [128, 64], [192, 8]]);
    const wide = graphDims(tinyModelConfig({ vocabSize: 1000 }), 1, 4, 64, 4 * 32 * 256);
    expect(wide.embedShards).toEqual([[0, 256], [256, 256], [512, 256], [768, 232]]);
    expect(graphDims(tinyModelConfig({ vocabSize: 200 }), 2, 12, 4096).embedShards).toEqual([[0, 200]]);
  });
});

describe.skipIf(!gpu)('embedding shards on the GPU', () => {
  // A bf16 checkpoint keeps its table in bf16 (and the tied head reads it so): the weights are
  // bf16 values here, so the reference on the same values is exact.
  const bf16 = (w: Map<string, Float32Array<ArrayBuffer>>) => new Map([...w].map(([n, a]) => [n, Float32Array.from(a, (x) => bf16BitsToF32(f32ToBf16Bits(x)))]));
  const cases = {
    'llama, untied': { model: tinyModelConfig({ vocabSize: 200 }), precision: 'f32', embedBytes: [8192, 8192, 8192, 1024] },
    'gemma3, tied, scaled': { model: { ...FAMILIES.gemma3, vocabSize: 200 }, precision: 'f32', embedBytes: [8192, 8192, 8192, 1024] },
    'gemma3, tied, bf16 checkpoint': { model: { ...FAMILIES.gemma3, vocabSize: 200, torchDtype: 'bfloat16' }, precision: 'bf16', embedBytes: [4096, 4096, 4096, 512] },
  } as const;
  for (const [name, { model, precision, embedBytes }] of Object.entries(cases)) {
    it(`${name}: loss and LoRA gradients equal the reference; the plan equals the ledger`, async () => {
      const weights = precision === 'bf16' ? bf16(tinyWeights(model, 2)) : tinyWeights(model, 2);
      const run = parseRunConfig({ maxSeqLen: 12, microBatch: 2, targets: ['query', 'value', 'head'], rank: 2, alpha: 4, seed: 3, basePrecision: precision });
      const batch = epochBatches(chainDataset(200, 8, 13, 4), 2, 12, 0, 3, 0)[0];
      const engine = createEngine(gpu!);
      const g = await buildTrainGraph(engine, model, run, { load: loaderOf(weights), maxBindingBytes: CAP });
      expect(g.base.embed.length).toBe(4);
      submitMicroBatch(g, batch, 0, 0);
      const grads = await readLoraTensors(engine, g.lora.grads, g.layout);
      const loss = await evaluate(g, [batch]);
      const ledger = engine.pool.ledgerSnapshot();
      engine.pool.destroyAll();
      const plan = await planMemory(model, run, { ...gpu!.limits, maxBufferSize: CAP, maxStorageBufferBindingSize: CAP }, gpu!.features);
      expect(plan.byCategory).toEqual(ledger.current);
      expect(plan.buffers.filter((b) => b.label.startsWith('model.embed_tokens')).map((b) => b.bytes)).toEqual([...embedBytes]);

      // The graph's init (B = 0, so only dB is non-zero), rebuilt on the CPU for the reference.
      const flat = initialLoraParams(g.layout, run.seed);
      const lora = new Map(g.layout.slots.map((s) => [s.path, {
        A: flat.slice(s.offsetA, s.offsetA + s.r * s.inFeatures), B: flat.slice(s.offsetB, s.offsetB + s.outFeatures * s.r), r: s.r, scale: s.scale,
      }]));
      const ref = lossAndGrads({ config: model, weights }, lora, batch.tokens, batch.targets, 2, 12);
      expect(mismatches([loss], [ref.loss], 1e-4, 1e-4)).toBeNull();
      for (const s of g.layout.slots) expect(mismatches(grads.get(s.path)!.B, ref.grads.get(s.path)!.dB, 1e-5, 1e-3), s.path).toBeNull();
    });
  }

  it('gemma3, tied: the decoder on sharded weights gives the reference logits', async () => {
    const model = { ...FAMILIES.gemma3, vocabSize: 200 };
    const weights = tinyWeights(model, 5);
    const engine = createEngine(gpu!);
    const base = await createDecoderBase(engine, model, { load: loaderOf(weights), vocabChunk: 64, maxBindingBytes: CAP });
    expect(base.embed.length).toBe(4);
    const dec = await createDecoder(engine, model, base, null, { maxLen: 16, prefillChunk: 8 });
    const ids = promptIds(200, 10, 7);
    dec.reset(false);
    const got = await dec.feed(ids);
    expect(mismatches(got, referenceNextLogits(model, weights, new Map(), ids), 1e-4, 1e-4)).toBeNull();
    engine.pool.destroyAll();
  });
});
