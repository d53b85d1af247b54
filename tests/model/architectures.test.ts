import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attentionScale, layerRope, layerWindow, ropeSpecsByLayer } from '../../src/config/architecture-features';
import { checkSequenceLength, SUPPORTED_ARCHITECTURES } from '../../src/config/architectures';
import { ModelConfigError } from '../../src/config/model-config-error';
import { parseModelConfig, ropeSpecOf } from '../../src/config/model-config';
import { countBaseParams } from '../../src/config/param-count';
import { ropeInvFreq, ropeTables } from '../../src/reference/ops/rope';
import { uploadRopeTables } from '../../src/engine/kernels/rope';
import { readFloat32 } from '../../src/engine/readback';
import { testEngine } from '../gpu/gpu';

// The config.json files of real models (as published on the Hub; unused fields dropped) and their
// parameter counts as their model cards / safetensors metadata state them.
const SMOLLM2_135M = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
  num_attention_heads: 9, num_key_value_heads: 3, vocab_size: 49152, max_position_embeddings: 8192, rope_theta: 100000,
  rms_norm_eps: 1e-5, tie_word_embeddings: true, hidden_act: 'silu', attention_bias: false, mlp_bias: false, rope_scaling: null,
  bos_token_id: 0, eos_token_id: 0, torch_dtype: 'bfloat16', pretraining_tp: 1,
};
const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
  num_attention_heads: 14, num_key_value_heads: 2, vocab_size: 151936, max_position_embeddings: 32768, rope_theta: 1000000,
  rms_norm_eps: 1e-6, tie_word_embeddings: true, hidden_act: 'silu', use_sliding_window: false, sliding_window: 32768,
  max_window_layers: 24, bos_token_id: 151643, eos_token_id: 151643, torch_dtype: 'bfloat16', rope_scaling: null,
};
const LLAMA32_1B = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
  num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, vocab_size: 128256, max_position_embeddings: 131072,
  rope_theta: 500000, rms_norm_eps: 1e-5, tie_word_embeddings: true, hidden_act: 'silu', attention_bias: false, mlp_bias: false,
  rope_scaling: { factor: 32, high_freq_factor: 4, low_freq_factor: 1, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  bos_token_id: 128000, eos_token_id: 128001, torch_dtype: 'bfloat16',
};
const TINYLLAMA = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 2048, intermediate_size: 5632, num_hidden_layers: 22,
  num_attention_heads: 32, num_key_value_heads: 4, vocab_size: 32000, max_position_embeddings: 2048, rope_theta: 10000,
  rms_norm_eps: 1e-5, tie_word_embeddings: false, hidden_act: 'silu', rope_scaling: null, torch_dtype: 'bfloat16',
};
const MISTRAL_7B_V01 = {
  architectures: ['MistralForCausalLM'], model_type: 'mistral', hidden_size: 4096, intermediate_size: 14336, num_hidden_layers: 32,
  num_attention_heads: 32, num_key_value_heads: 8, vocab_size: 32000, max_position_embeddings: 32768, rope_theta: 10000,
  rms_norm_eps: 1e-5, sliding_window: 4096, tie_word_embeddings: false, hidden_act: 'silu', torch_dtype: 'bfloat16',
};
const MISTRAL_7B_V03 = { ...MISTRAL_7B_V01, vocab_size: 32768, rope_theta: 1000000, sliding_window: null };
const fixture = (name: string) => JSON.parse(readFileSync(`tests/fixtures/configs/${name}.json`, 'utf8'));
const QWEN3_06B = fixture('qwen3-0.6b');
const GEMMA3_1B = fixture('gemma-3-1b-it');
const GEMMA3_270M = fixture('gemma-3-270m');

describe('config.json of the supported families', () => {
  it.each([
    ['SmolLM2-135M', SMOLLM2_135M, 134_515_008],
    ['Qwen2.5-0.5B', QWEN25_05B, 494_032_768],
    ['Llama-3.2-1B', LLAMA32_1B, 1_235_814_400],
    ['TinyLlama-1.1B', TINYLLAMA, 1_100_048_384],
    ['Mistral-7B-v0.1', MISTRAL_7B_V01, 7_241_732_096],
    ['Mistral-7B-v0.3', MISTRAL_7B_V03, 7_248_023_552],
    ['Llama-2-7B', fixture('llama-2-7b'), 6_738_415_616],
    // Qwen3: q_norm/k_norm (head_dim 128) per layer, tied. Gemma 3: four norms + q/k norms per layer, tied.
    ['Qwen3-0.6B', QWEN3_06B, 596_049_920],
    ['Gemma-3-1B', GEMMA3_1B, 999_885_952],
    ['Gemma-3-270M', GEMMA3_270M, 268_098_176], // the model card's "268M" (170M embeddings + 100M blocks)
  ])('%s parses and counts its published parameters', (_, json, params) => {
    expect(countBaseParams(parseModelConfig(json))).toBe(params);
  });

  it('reads the family-specific fields', () => {
    const qwen = parseModelConfig(QWEN25_05B);
    expect(qwen).toMatchObject({ architecture: 'Qwen2ForCausalLM', modelType: 'qwen2', attentionBias: true, tieWordEmbeddings: true, headDim: 64, slidingWindow: null });
    const llama = parseModelConfig(LLAMA32_1B);
    expect(llama.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(llama).toMatchObject({ attentionBias: false, headDim: 64, torchDtype: 'bfloat16' });
    expect(parseModelConfig(MISTRAL_7B_V01)).toMatchObject({ modelType: 'mistral', slidingWindow: 4096 });
    expect(parseModelConfig(MISTRAL_7B_V03).slidingWindow).toBeNull();
    expect(parseModelConfig({ ...MISTRAL_7B_V03, head_dim: null }).headDim).toBe(128); // some configs write null
    // Qwen2's window counts only with use_sliding_window
    expect(parseModelConfig({ ...QWEN25_05B, use_sliding_window: true, sliding_window: 4096 }).slidingWindow).toBe(4096);
    // The legacy "type" key and transformers v5's rope_parameters
    expect(parseModelConfig({ ...TINYLLAMA, rope_scaling: { type: 'linear', factor: 2 } }).ropeScaling).toEqual({ type: 'linear', factor: 2 });
    const v5 = { ...LLAMA32_1B, rope_theta: undefined, rope_scaling: undefined, rope_parameters: { ...LLAMA32_1B.rope_scaling, rope_theta: 500000 } };
    expect(parseModelConfig(v5)).toMatchObject({ ropeTheta: 500000, ropeScaling: { type: 'llama3', factor: 32 } });
    expect(parseModelConfig({ ...TINYLLAMA, rope_scaling: { type: 'dynamic', factor: 2 } }).ropeScaling).toBeNull();
  });

  it('reads the Qwen3 features', () => {
    const q = parseModelConfig(QWEN3_06B);
    expect(q).toMatchObject({ architecture: 'Qwen3ForCausalLM', modelType: 'qwen3', headDim: 128, qkNorm: true, tieWordEmbeddings: true, attentionBias: false, slidingWindow: null });
    expect(q.normPlusOne ?? false).toBe(false);
    expect(q.sandwichNorms ?? false).toBe(false);
    expect(q.mlpActivation ?? 'silu').toBe('silu');
    expect(q.embedScale ?? 1).toBe(1);
    expect(attentionScale(q)).toBe(1 / Math.sqrt(128)); // head_dim 128 != hidden 1024 / 16 heads
    expect(layerWindow(q, 0)).toBeNull();
    expect(ropeSpecsByLayer(q).specs).toEqual([{ theta: 1000000, scaling: null }]);
  });

  it('reads the Gemma 3 features: sandwich (1 + w) norms, GeGLU, scaled embeddings, local and global layers', () => {
    const g = parseModelConfig(GEMMA3_1B);
    expect(g).toMatchObject({
      architecture: 'Gemma3ForCausalLM', modelType: 'gemma3_text', headDim: 256, numKvHeads: 1, qkNorm: true, normPlusOne: true,
      sandwichNorms: true, mlpActivation: 'gelu_tanh', queryPreAttnScalar: 256, slidingWindow: 512, localRopeTheta: 10000,
      ropeTheta: 1000000, tieWordEmbeddings: true, attnLogitSoftcap: null, finalLogitSoftcap: null, eosTokenId: [1, 106],
    });
    // sqrt(1152) = 33.94 rounded to bfloat16 (the checkpoint's dtype), as transformers computes it
    expect(g.embedScale).toBe(34);
    // sliding_window_pattern 6: every sixth layer is global
    const full = g.layerTypes!.flatMap((t, i) => (t === 'full' ? [i] : []));
    expect(full).toEqual([5, 11, 17, 23]);
    expect(layerWindow(g, 0)).toBe(512);
    expect(layerWindow(g, 5)).toBeNull();
    expect(layerRope(g, 0)).toEqual({ theta: 10000, scaling: null });
    expect(layerRope(g, 5)).toEqual({ theta: 1000000, scaling: null });
    expect(ropeSpecsByLayer(g).specs.length).toBe(2);

    const small = parseModelConfig(GEMMA3_270M); // layer_types written out
    expect(small.layerTypes).toEqual(Array.from({ length: 18 }, (_, i) => ((i + 1) % 6 ? 'sliding' : 'full')));
    expect(small.embedScale).toBe(25.25); // sqrt(640) = 25.30 in bfloat16
    expect(parseModelConfig({ ...GEMMA3_270M, torch_dtype: 'float32' }).embedScale).toBe(Math.fround(Math.sqrt(640)));
  });

  it('lists every supported architecture', () => {
    expect(SUPPORTED_ARCHITECTURES.map((a) => a.architecture)).toEqual([
      'LlamaForCausalLM', 'MistralForCausalLM', 'Qwen2ForCausalLM', 'Qwen3ForCausalLM', 'Gemma3ForCausalLM', 'Gemma2ForCausalLM',
    ]);
  });
});

describe('refused configs, each with its message', () => {
  const bad = (json: unknown) => () => parseModelConfig(json);
  it.each([
    ['GPT-NeoX (Pythia)', { architectures: ['GPTNeoXForCausalLM'], model_type: 'gpt_neox', hidden_size: 512 }, /architecture "GPTNeoXForCausalLM" \(model_type "gpt_neox"\) is not supported; supported: LlamaForCausalLM \(Llama 1\/2\/3, SmolLM, SmolLM2, TinyLlama\), MistralForCausalLM \(Mistral\), Qwen2ForCausalLM \(Qwen2, Qwen2.5\)/],
    ['Mixtral (MoE)', { ...MISTRAL_7B_V01, architectures: ['MixtralForCausalLM'], model_type: 'mixtral', num_local_experts: 8 }, /"MixtralForCausalLM".*not supported; supported: LlamaForCausalLM/],
    ['experts on a supported class', { ...QWEN25_05B, num_experts: 60 }, /"num_experts": 60 describes a mixture-of-experts model/],
    ['Gemma 3 with exact GELU', { ...GEMMA3_1B, hidden_activation: 'gelu' }, /hidden_act "gelu" is not supported on Gemma3ForCausalLM \(its MLP is gelu_pytorch_tanh \(GeGLU\)\)/],
    ['Gemma 3 layer_types of the wrong length', { ...GEMMA3_270M, layer_types: ['full_attention'] }, /layer_types has 1 entries for 18 layers/],
    ['a model_type without architectures', { model_type: 'phi3', hidden_size: 8 }, /model_type "phi3" is not supported; supported:/],
    ['inconsistent class and type', { ...TINYLLAMA, model_type: 'qwen2' }, /"LlamaForCausalLM" does not match model_type "qwen2"/],
    ['hidden_size 10^9', { ...TINYLLAMA, hidden_size: 1e9 }, /hidden_size 1000000000 is beyond any real model \(at most 65536\)/],
    ['vocab of 10^12', { ...TINYLLAMA, vocab_size: 1e12 }, /vocab_size 1000000000000 is beyond any real model/],
    ['sizes whose product is absurd', { ...TINYLLAMA, hidden_size: 65536, intermediate_size: 262144, num_hidden_layers: 1024, num_attention_heads: 512, num_key_value_heads: 512 }, /describe a model of .* parameters, beyond any real model/],
    ['a GELU MLP', { ...TINYLLAMA, hidden_act: 'gelu' }, /hidden_act "gelu" is not supported/],
    ['Llama attention_bias (o_proj bias)', { ...TINYLLAMA, attention_bias: true }, /attention_bias: true on LlamaForCausalLM also puts a bias on o_proj/],
    ['mlp_bias', { ...TINYLLAMA, mlp_bias: true }, /mlp_bias: true/],
    ['YaRN scaling', { ...TINYLLAMA, rope_scaling: { rope_type: 'yarn', factor: 4 } }, /rope_scaling type "yarn" is not supported \(supported: default, linear, dynamic, llama3\)/],
    ['llama3 scaling without its keys', { ...TINYLLAMA, rope_scaling: { rope_type: 'llama3', factor: 8 } }, /rope_scaling.low_freq_factor must be a number/],
    ['partial rotary', { ...TINYLLAMA, partial_rotary_factor: 0.5 }, /partial_rotary_factor 0.5 is not supported/],
    ['a missing size', { ...TINYLLAMA, hidden_size: undefined }, /field "hidden_size"/],
    ['not an object', [1, 2], /must be a JSON object/],
  ])('%s', (_, json, message) => {
    expect(bad(json)).toThrow(ModelConfigError);
    expect(bad(json)).toThrow(message);
  });

  it('refuses a sequence longer than max_position_embeddings; a sliding window is applied, not refused', () => {
    expect(() => checkSequenceLength(parseModelConfig(TINYLLAMA), 4096)).toThrow(/maxSeqLen 4096 is longer than the model's max_position_embeddings \(2048\)/);
    expect(() => checkSequenceLength(parseModelConfig(MISTRAL_7B_V01), 8192)).not.toThrow();
    expect(() => checkSequenceLength(parseModelConfig(GEMMA3_1B), 4096)).not.toThrow(); // window 512
    expect(() => checkSequenceLength(parseModelConfig(MISTRAL_7B_V03), 8192)).not.toThrow();
  });
});

describe('Llama 3 RoPE scaling (transformers _compute_llama3_parameters)', () => {
  const spec = ropeSpecOf(parseModelConfig(LLAMA32_1B)); // D = 64, theta 5e5, factor 32, low 1, high 4, original 8192
  const D = 64;
  const plain = ropeInvFreq(D, 500000);
  const scaled = ropeInvFreq(D, spec);

  it('keeps short wavelengths, divides long ones by the factor, blends the ones between', () => {
    const regime = [...plain].map((f) => {
      const wavelen = (2 * Math.PI) / f;
      return wavelen < 8192 / 4 ? 'high' : wavelen > 8192 / 1 ? 'low' : 'medium';
    });
    // 500000^(-2i/64) crosses wavelength 2048 between i = 14 and 15 and 8192 between i = 17 and 18.
    expect(regime.indexOf('medium')).toBe(15);
    expect(regime.lastIndexOf('medium')).toBe(17);
    for (let i = 0; i < D / 2; i++) {
      const wavelen = (2 * Math.PI) / plain[i];
      if (regime[i] === 'high') expect(scaled[i]).toBe(plain[i]);
      else if (regime[i] === 'low') expect(scaled[i]).toBe(plain[i] / 32);
      else {
        const smooth = (8192 / wavelen - 1) / (4 - 1);
        expect(smooth).toBeGreaterThan(0);
        expect(smooth).toBeLessThan(1);
        expect(scaled[i]).toBeCloseTo((1 - smooth) * (plain[i] / 32) + smooth * plain[i], 15);
      }
    }
    // Spot values: i = 0 is 1; i = 31 is 500000^(-62/64) / 32.
    expect(scaled[0]).toBe(1);
    expect(scaled[31]).toBeCloseTo(Math.pow(500000, -62 / 64) / 32, 18);
  });

  it('is continuous at both ends of the blend (a smooth ramp, as the formula intends)', () => {
    const s = { theta: 10000, scaling: { type: 'llama3' as const, factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 } };
    const inv = ropeInvFreq(4096, s); // dense frequencies so the boundaries are approached closely
    const base = ropeInvFreq(4096, 10000);
    for (let i = 1; i < inv.length; i++) expect(inv[i] / base[i]).toBeLessThanOrEqual(inv[i - 1] / base[i - 1] + 1e-3);
  });

  it('enters the tables: angle(t, i) = t * inv_freq_i, and unscaled tables are unchanged', () => {
    const { cos, sin } = ropeTables(Float64Array, 5, D, spec);
    for (const [t, i] of [[3, 20], [4, 16], [2, 1]]) {
      expect(cos[t * 32 + i]).toBeCloseTo(Math.cos(t * scaled[i]), 14);
      expect(sin[t * 32 + i]).toBeCloseTo(Math.sin(t * scaled[i]), 14);
    }
    const old = ropeTables(Float32Array, 7, 8, 10000);
    const viaSpec = ropeTables(Float32Array, 7, 8, { theta: 10000, scaling: null });
    expect([...viaSpec.cos]).toEqual([...old.cos]);
    for (let t = 0; t < 7; t++) for (let i = 0; i < 4; i++) expect(old.cos[t * 4 + i]).toBe(Math.fround(Math.cos(t / Math.pow(10000, (2 * i) / 8))));
  });

  it('linear scaling divides every frequency', () => {
    const lin = ropeInvFreq(8, { theta: 10000, scaling: { type: 'linear', factor: 4 } });
    expect([...lin]).toEqual([...ropeInvFreq(8, 10000)].map((f) => f / 4));
  });

  it('the GPU tables are the reference tables (uploaded from ropeTables)', async () => {
    const engine = await testEngine();
    if (!engine) return;
    const tables = await uploadRopeTables(engine, 9, D, spec);
    const ref = ropeTables(Float32Array, 9, D, spec);
    expect(await readFloat32(engine.gpu.device, tables.cos, 9 * 32)).toEqual(ref.cos);
    expect(await readFloat32(engine.gpu.device, tables.sin, 9 * 32)).toEqual(ref.sin);
  });
});
