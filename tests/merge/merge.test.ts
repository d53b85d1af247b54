import { f32ToBf16Bits, f32ToF16Bits } from '../../src/core/half';
import { describe, expect, it } from 'vitest';
import { exportPeftAdapter, importPeftAdapter } from '../../src/io/peft';
import { bytesSource, openSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { parseModelConfig, type ModelConfig } from '../../src/config/model-config';
import { loraScaling } from '../../src/config/lora-config';
import { mergeAdapters, mergeAdaptersToBytes, planMerge, safetensorsLayout, SafetensorsStream, type MergeBase } from '../../src/model/merge';
import { loaderOf, tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { forward, type LoraWeights } from '../../src/reference';
import { mismatches } from '../gpu/gpu';
import { hfConfig, loraOf, naiveMerge, randomAdapter } from './helpers';

const ALL_LINEAR = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

function baseOf(model: ModelConfig, weights: Map<string, Float32Array<ArrayBuffer>>, extra: Record<string, unknown> = {}): MergeBase {
  return { configJson: JSON.stringify(hfConfig(model, extra), null, 2), tensors: [...weights.keys()], load: loaderOf(weights) };
}

async function readAll(bytes: Uint8Array): Promise<Map<string, { dtype: string; shape: number[]; raw: Uint8Array; f32: Float32Array }>> {
  const f = await openSafetensors(bytesSource(bytes, 'model.safetensors'));
  const out = new Map<string, { dtype: string; shape: number[]; raw: Uint8Array; f32: Float32Array }>();
  for (const name of f.names()) out.set(name, { dtype: f.info(name).dtype, shape: f.info(name).shape, raw: await f.readRaw(name), f32: await f.readF32(name) });
  expect(f.metadata).toEqual({ format: 'pt' });
  return out;
}

/** Logits (T, V) of the CPU reference. */
function logits(config: ModelConfig, weights: Map<string, Float32Array>, lora: LoraWeights, ids: number[]): Float32Array {
  const T = ids.length;
  return Float32Array.from(forward({ config, weights }, lora, Int32Array.from(ids), new Int32Array(T).fill(-100), 1, T).logits);
}

const IDS = [3, 17, 5, 40, 66, 1, 9, 23, 2, 11];

describe('merging adapters into the base model (CPU, streaming)', () => {
  const model = tinyModelConfig({ attentionBias: true, modelType: 'qwen2' });
  const weights = tinyWeights(model, 3);

  it('merged weights equal W + scale B A, other tensors are unchanged, and the merged model gives the adapter\'s logits (F32)', async () => {
    const adapter = randomAdapter(model, ['q_proj', 'v_proj', 'down_proj', 'lm_head'], 3, 6, 1);
    const { weights: file, configJson, plan } = await mergeAdaptersToBytes(baseOf(model, weights), [{ adapter, weight: 1 }], { dtype: 'F32' });
    expect(configJson).toBe(JSON.stringify(hfConfig(model), null, 2)); // nothing changed: the text is kept
    expect(plan.untiedHead).toBe(false);
    const merged = await readAll(file);
    expect([...merged.keys()]).toEqual([...weights.keys()]);
    const adapted = new Map(adapter.tensors.map((t) => [`${t.path}.weight`, t]));
    for (const [name, w] of weights) {
      const m = merged.get(name)!;
      expect(m.dtype).toBe('F32');
      const t = adapted.get(name);
      if (!t) {
        expect(m.f32, name).toEqual(w);
        continue;
      }
      expect(m.shape).toEqual([t.outFeatures, t.inFeatures]);
      const want = naiveMerge(w, t.outFeatures, t.inFeatures, [{ A: t.A, B: t.B, r: t.r, coef: 2 }]);
      expect(mismatches(m.f32, want, 1e-6, 1e-6), name).toBeNull();
    }
    const mergedWeights = new Map([...merged].map(([n, t]) => [n, t.f32]));
    const want = logits(model, weights, loraOf(adapter), IDS);
    const got = logits(parseModelConfig(JSON.parse(configJson)), mergedWeights, new Map(), IDS);
    expect(mismatches(got, want, 1e-4, 0)).toBeNull();
    expect(mismatches(logits(model, weights, new Map(), IDS), want, 1e-2, 0)).not.toBeNull(); // the adapter matters
  });

  for (const dtype of ['BF16', 'F16'] as const) {
    it(`${dtype} output: every value is the ${dtype} rounding of the f32 merge, config says so, logits stay close`, async () => {
      const adapter = randomAdapter(model, ALL_LINEAR, 4, 8, 2, { useRslora: true });
      const base = baseOf(model, weights);
      const f32 = await readAll((await mergeAdaptersToBytes(base, [{ adapter, weight: 1 }], { dtype: 'F32' })).weights);
      const { weights: file, configJson } = await mergeAdaptersToBytes(base, [{ adapter, weight: 1 }], { dtype });
      expect(JSON.parse(configJson).torch_dtype).toBe(dtype === 'BF16' ? 'bfloat16' : 'float16');
      expect(file.byteLength).toBeLessThan(0.52 * (await mergeAdaptersToBytes(base, [{ adapter, weight: 1 }], { dtype: 'F32' })).weights.byteLength);
      const out = await readAll(file);
      const round = dtype === 'BF16' ? f32ToBf16Bits : f32ToF16Bits;
      for (const [name, t] of out) {
        expect(t.dtype).toBe(dtype);
        const bits = new Uint16Array(t.raw.buffer, t.raw.byteOffset, t.raw.byteLength / 2);
        const ref = f32.get(name)!.f32;
        for (let i = 0; i < bits.length; i++) if (bits[i] !== round(ref[i])) throw new Error(`${name}[${i}]: ${bits[i]} != ${dtype}(${ref[i]})`);
      }
      const want = logits(model, weights, loraOf(adapter), IDS);
      const got = logits(model, new Map([...out].map(([n, t]) => [n, t.f32])), new Map(), IDS);
      const spread = Math.max(...want) - Math.min(...want);
      expect(mismatches(got, want, (dtype === 'BF16' ? 2e-2 : 3e-3) * spread, 0)).toBeNull();
    });
  }

  it('two adapters with weights 0.7 and 0.3 ("cat") equal W + 0.7 s1 B1 A1 + 0.3 s2 B2 A2, ranks and targets differing', async () => {
    const a1 = randomAdapter(model, ['q_proj', 'v_proj', 'gate_proj'], 2, 4, 5);
    const a2 = randomAdapter(model, ['q_proj', 'o_proj', 'lm_head'], 4, 4, 6, { useRslora: true, layers: [1] });
    const { weights: file } = await mergeAdaptersToBytes(baseOf(model, weights), [{ adapter: a1, weight: 0.7 }, { adapter: a2, weight: 0.3 }], { dtype: 'F32' });
    const merged = await readAll(file);
    const terms = new Map<string, { A: Float32Array; B: Float32Array; r: number; coef: number; out: number; in: number }[]>();
    for (const [a, w] of [[a1, 0.7], [a2, 0.3]] as const) {
      for (const t of a.tensors) {
        const list = terms.get(`${t.path}.weight`) ?? [];
        list.push({ A: t.A, B: t.B, r: t.r, coef: w * loraScaling(t.r, t.alpha, a.config.useRslora), out: t.outFeatures, in: t.inFeatures });
        terms.set(`${t.path}.weight`, list);
      }
    }
    expect(terms.get('model.layers.1.self_attn.q_proj.weight')).toHaveLength(2);
    for (const [name, w] of weights) {
      const list = terms.get(name);
      const want = list ? naiveMerge(w, list[0].out, list[0].in, list) : w;
      expect(mismatches(merged.get(name)!.f32, want, 1e-6, 1e-6), name).toBeNull();
    }
    // The merged model computes what both adapters compute together: the reference runs their
    // concatenation (PEFT's "cat" adapter: A = [w1 s1 A1; w2 s2 A2], B = [B1 B2], scale 1).
    const cat: LoraWeights = new Map();
    for (const [path, list] of [...terms].map(([n, l]) => [n.slice(0, -'.weight'.length), l] as const)) {
      const r = list.reduce((n, t) => n + t.r, 0);
      const A = new Float32Array(r * list[0].in);
      const B = new Float32Array(list[0].out * r);
      let k0 = 0;
      for (const t of list) {
        for (let k = 0; k < t.r; k++) for (let i = 0; i < t.in; i++) A[(k0 + k) * t.in + i] = t.coef * t.A[k * t.in + i];
        for (let o = 0; o < t.out; o++) for (let k = 0; k < t.r; k++) B[o * r + k0 + k] = t.B[o * t.r + k];
        k0 += t.r;
      }
      cat.set(path, { A, B, r, scale: 1 });
    }
    const got = logits(model, new Map([...merged].map(([n, t]) => [n, t.f32])), new Map(), IDS);
    expect(mismatches(got, logits(model, weights, cat, IDS), 1e-4, 0)).toBeNull();
  });

  it('"linear" is PEFT\'s: A = sum sqrt(w s) A_i, B = sum sqrt(w s) B_i (cross terms included); one adapter gives the plain merge', async () => {
    const a1 = randomAdapter(model, ['k_proj'], 3, 6, 7);
    const a2 = randomAdapter(model, ['k_proj'], 3, 3, 8);
    const { weights: file } = await mergeAdaptersToBytes(baseOf(model, weights), [{ adapter: a1, weight: 0.7 }, { adapter: a2, weight: 0.3 }], { dtype: 'F32', combination: 'linear' });
    const merged = await readAll(file);
    for (let l = 0; l < model.numLayers; l++) {
      const [t1, t2] = [a1.tensors[l], a2.tensors[l]];
      const f1 = Math.sqrt(0.7 * 2);
      const f2 = Math.sqrt(0.3 * 1);
      const A = t1.A.map((x, i) => f1 * x + f2 * t2.A[i]);
      const B = t1.B.map((x, i) => f1 * x + f2 * t2.B[i]);
      const name = `${t1.path}.weight`;
      expect(mismatches(merged.get(name)!.f32, naiveMerge(weights.get(name)!, t1.outFeatures, t1.inFeatures, [{ A, B, r: 3, coef: 1 }]), 1e-6, 1e-6), name).toBeNull();
    }
    const lin = await mergeAdaptersToBytes(baseOf(model, weights), [{ adapter: a1, weight: 0.4 }], { dtype: 'F32', combination: 'linear' });
    const cat = await mergeAdaptersToBytes(baseOf(model, weights), [{ adapter: a1, weight: 0.4 }], { dtype: 'F32', combination: 'cat' });
    const [l1, c1] = [await readAll(lin.weights), await readAll(cat.weights)];
    for (const [name, t] of c1) expect(mismatches(l1.get(name)!.f32, t.f32, 1e-6, 1e-5), name).toBeNull();
  });

  it('a tied head with an lm_head adapter is untied: lm_head.weight = embedding + delta, tie_word_embeddings false', async () => {
    const tied = tinyModelConfig({ tieWordEmbeddings: true });
    const tw = tinyWeights(tied, 4);
    expect(tw.has('lm_head.weight')).toBe(false);
    const adapter = randomAdapter(tied, ['q_proj', 'lm_head'], 2, 4, 9, { scale: 0.5 });
    const { weights: file, configJson, plan } = await mergeAdaptersToBytes(baseOf(tied, tw), [{ adapter, weight: 1 }], { dtype: 'F32' });
    expect(plan.untiedHead).toBe(true);
    const cfg = JSON.parse(configJson);
    expect(cfg.tie_word_embeddings).toBe(false);
    expect({ ...cfg, tie_word_embeddings: true }).toEqual(hfConfig(tied)); // nothing else changed
    const merged = await readAll(file);
    expect([...merged.keys()]).toEqual([...tw.keys(), 'lm_head.weight']);
    expect(merged.get('model.embed_tokens.weight')!.f32).toEqual(tw.get('model.embed_tokens.weight'));
    const head = adapter.tensors.find((t) => t.module === 'lm_head')!;
    expect(mismatches(merged.get('lm_head.weight')!.f32, naiveMerge(tw.get('model.embed_tokens.weight')!, tied.vocabSize, tied.hiddenSize, [{ A: head.A, B: head.B, r: 2, coef: 2 }]), 1e-6, 1e-6)).toBeNull();
    const got = logits(parseModelConfig(cfg), new Map([...merged].map(([n, t]) => [n, t.f32])), new Map(), IDS);
    expect(mismatches(got, logits(tied, tw, loraOf(adapter), IDS), 1e-4, 0)).toBeNull();
    // without an lm_head adapter the model stays tied; a saved RoPE inv_freq buffer is dropped, as transformers ignores it
    const withRotary = { ...baseOf(tied, tw), tensors: [...tw.keys(), 'model.layers.0.self_attn.rotary_emb.inv_freq'] };
    const plain = planMerge(withRotary, [{ adapter: randomAdapter(tied, ['q_proj'], 2, 4, 9), weight: 1 }], { dtype: 'F32' });
    expect(plain.untiedHead).toBe(false);
    expect(plain.steps.map((s) => s.entry.name)).toEqual([...tw.keys()]);
  });

  it('streams: the header first, one tensor at a time, each base tensor read once, never two reads at once', async () => {
    const adapter = randomAdapter(model, ['up_proj'], 2, 2, 10);
    const reads: string[] = [];
    let open = 0;
    let maxOpen = 0;
    const load = async (name: string) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      reads.push(name);
      await new Promise((r) => setTimeout(r, 1));
      open--;
      return weights.get(name)!;
    };
    const chunks: Uint8Array[] = [];
    const progress: number[] = [];
    const { plan } = await mergeAdapters({ ...baseOf(model, weights), load }, [{ adapter, weight: 1 }], (c) => { chunks.push(c.slice()); }, { onProgress: (p) => progress.push(p.done) });
    expect(reads).toEqual([...weights.keys()]);
    expect(maxOpen).toBe(1);
    expect(chunks).toHaveLength(weights.size + 1);
    expect(progress).toEqual(Array.from({ length: weights.size }, (_, i) => i + 1));
    const all = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    chunks.reduce((at, c) => (all.set(c, at), at + c.byteLength), 0);
    expect(all.byteLength).toBe(plan.totalBytes);
    expect((await readAll(all)).size).toBe(weights.size);

    const ctrl = new AbortController();
    ctrl.abort();
    await expect(mergeAdapters(baseOf(model, weights), [{ adapter, weight: 1 }], () => {}, { signal: ctrl.signal })).rejects.toThrow(/abort/i);
  });

  it('the streamed file is byte for byte what writeSafetensors writes', async () => {
    const tensors = [
      { name: 'b', dtype: 'BF16' as const, shape: [2, 3], data: new Uint16Array([1, 2, 3, 4, 5, 6]) },
      { name: '0', dtype: 'F32' as const, shape: [1], data: new Float32Array([7]) },
      { name: 'empty', dtype: 'F16' as const, shape: [0, 4], data: new Uint16Array(0) },
    ];
    const want = writeSafetensors(tensors, { format: 'pt' });
    const chunks: Uint8Array[] = [];
    const s = new SafetensorsStream(tensors, (c) => { chunks.push(c.slice()); }, { format: 'pt' });
    await s.start();
    for (const t of tensors) await s.write(t.name, t.data);
    s.end();
    expect(Buffer.concat(chunks)).toEqual(Buffer.from(want));
    expect(safetensorsLayout(tensors, { format: 'pt' }).totalBytes).toBe(want.byteLength);
    const s2 = new SafetensorsStream(tensors, () => {}, {});
    await s2.start();
    await expect(s2.write('0', tensors[1].data)).rejects.toThrow(/"0" written where the header expects "b"/);
    await expect(s2.write('b', new Uint16Array(5))).rejects.toThrow(/has 10 bytes, the header says 12/);
    expect(() => s2.end()).toThrow(/3 tensors were not written/);
  });

  it('an adapter through the PEFT files (export, import) merges the same', async () => {
    const adapter = randomAdapter(model, ['v_proj', 'o_proj'], 2, 5, 12);
    const { weights: w, configJson } = exportPeftAdapter(adapter);
    const imported = await importPeftAdapter(bytesSource(w, 'adapter_model.safetensors'), configJson, model);
    const a = await mergeAdaptersToBytes(baseOf(model, weights), [{ adapter, weight: 1 }]);
    const b = await mergeAdaptersToBytes(baseOf(model, weights), [{ adapter: imported, weight: 1 }]);
    expect(Buffer.from(b.weights)).toEqual(Buffer.from(a.weights));
  });

  describe('mismatches give messages that name the problem', () => {
    const base = baseOf(model, weights);
    const other = tinyModelConfig({ hiddenSize: 48, headDim: 12, attentionBias: true, modelType: 'qwen2' });
    const deep = tinyModelConfig({ numLayers: 3, attentionBias: true, modelType: 'qwen2' });
    const cases: [string, () => unknown, RegExp][] = [
      ['an adapter for a wider model', () => planMerge(base, [{ adapter: randomAdapter(other, ['q_proj'], 2, 2, 1), weight: 1, name: 'wide.safetensors' }]),
        /wide\.safetensors adapts "model\.layers\.0\.self_attn\.q_proj" with an update of shape \[48, 48\], but this model's q_proj is \[32, 32\]; is the adapter for another base model\?/],
      ['an adapter for a deeper model', () => planMerge(base, [{ adapter: randomAdapter(deep, ['v_proj'], 2, 2, 1, { layers: [2] }), weight: 1 }]),
        /adapter 1 adapts "model\.layers\.2\.self_attn\.v_proj", but the base model has no tensor "model\.layers\.2\.self_attn\.v_proj\.weight" \(it has 2 layers\)/],
      ['a base tensor of another shape', () => planMerge({ ...base, tensors: [...weights.keys()].map((name) => ({ name, shape: name.endsWith('k_proj.weight') ? [16, 30] : undefined })) },
        [{ adapter: randomAdapter(model, ['k_proj'], 2, 2, 1), weight: 1 }]), /update of shape \[16, 32\], but the base tensor "model\.layers\.0\.self_attn\.k_proj\.weight" has shape \[16, 30\]/],
      ['"linear" with different ranks', () => planMerge(base, [{ adapter: randomAdapter(model, ['q_proj'], 2, 2, 1), weight: 0.5 }, { adapter: randomAdapter(model, ['q_proj'], 4, 2, 1), weight: 0.5 }], { combination: 'linear' }),
        /"linear" combination needs equal ranks, but "model\.layers\.0\.self_attn\.q_proj" has r = 2 in adapter 1 and r = 4 in adapter 2/],
      ['"linear" with a negative weight', () => planMerge(base, [{ adapter: randomAdapter(model, ['q_proj'], 2, 2, 1), weight: -1 }], { combination: 'linear' }), /weights must be >= 0/],
      ['a weight that is not a number', () => planMerge(base, [{ adapter: randomAdapter(model, ['q_proj'], 2, 2, 1), weight: NaN }]), /weight of adapter 1 is NaN/],
      ['no adapter', () => planMerge(base, []), /no adapter to merge/],
      ['an unknown tensor without a shape', () => planMerge({ ...base, tensors: [...weights.keys(), 'model.rotary.inv_freq'] }, [{ adapter: randomAdapter(model, ['q_proj'], 2, 2, 1), weight: 1 }]),
        /shape of base tensor "model\.rotary\.inv_freq" is unknown/],
      ['an integer base tensor', () => planMerge({ ...base, tensors: [...weights.keys(), { name: 'ids', shape: [3], dtype: 'I64' }] }, [{ adapter: randomAdapter(model, ['q_proj'], 2, 2, 1), weight: 1 }]),
        /base tensor "ids" is I64, not a float tensor/],
      ['a broken config.json', () => planMerge({ ...base, configJson: '{"vocab_size": ' }, [{ adapter: randomAdapter(model, ['q_proj'], 2, 2, 1), weight: 1 }]), /config\.json: is not valid JSON/],
    ];
    for (const [what, f, msg] of cases) it(what, () => expect(f).toThrow(msg));

    it('a loader that returns a tensor of the wrong size', async () => {
      const bad = { ...base, load: async (n: string) => (n === 'model.norm.weight' ? new Float32Array(5) : weights.get(n)!) };
      await expect(mergeAdaptersToBytes(bad, [{ adapter: randomAdapter(model, ['q_proj'], 2, 2, 1), weight: 1 }])).rejects.toThrow(/base tensor "model\.norm\.weight" has 5 values, but its shape \[32\] needs 32/);
    });
  });
});
