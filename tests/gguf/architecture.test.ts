/** llama.cpp's tensor names, the q/k row permutation, Gemma's norms, and the hyper-parameter keys per family. */
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/config/model-config';
import {
  architectureMetadata, fromGgufValues, ggufTensorName, llama3RopeFactors, permuteQkRows, readGguf, toGgufValues, writeGgufToBytes,
} from '../../src/io/gguf';
import { hfConfigJson, tinyConfig } from '../../scripts/llama-cpp-check/tiny-models';

describe('tensor names', () => {
  it('maps Llama / Qwen names, with post_attention_layernorm as the MLP norm', () => {
    const names = {
      'model.embed_tokens.weight': 'token_embd.weight', 'model.norm.weight': 'output_norm.weight', 'lm_head.weight': 'output.weight',
      'model.layers.0.input_layernorm.weight': 'blk.0.attn_norm.weight', 'model.layers.0.post_attention_layernorm.weight': 'blk.0.ffn_norm.weight',
      'model.layers.11.self_attn.q_proj.weight': 'blk.11.attn_q.weight', 'model.layers.1.self_attn.k_proj.bias': 'blk.1.attn_k.bias',
      'model.layers.1.self_attn.v_proj.weight': 'blk.1.attn_v.weight', 'model.layers.1.self_attn.o_proj.weight': 'blk.1.attn_output.weight',
      'model.layers.2.self_attn.q_norm.weight': 'blk.2.attn_q_norm.weight', 'model.layers.2.self_attn.k_norm.weight': 'blk.2.attn_k_norm.weight',
      'model.layers.3.mlp.gate_proj.weight': 'blk.3.ffn_gate.weight', 'model.layers.3.mlp.up_proj.weight': 'blk.3.ffn_up.weight',
      'model.layers.3.mlp.down_proj.weight': 'blk.3.ffn_down.weight',
    };
    for (const [hf, gguf] of Object.entries(names)) expect(ggufTensorName(hf, 'qwen3')).toBe(gguf);
    expect(ggufTensorName('model.layers.0.self_attn.rotary_emb.inv_freq', 'llama')).toBeNull();
    expect(() => ggufTensorName('model.layers.0.mlp.experts.0.w1.weight', 'llama')).toThrow(/no llama.cpp name/);
  });

  it('maps Gemma\'s four norms per layer', () => {
    expect(ggufTensorName('model.layers.4.input_layernorm.weight', 'gemma3')).toBe('blk.4.attn_norm.weight');
    expect(ggufTensorName('model.layers.4.post_attention_layernorm.weight', 'gemma3')).toBe('blk.4.post_attention_norm.weight');
    expect(ggufTensorName('model.layers.4.pre_feedforward_layernorm.weight', 'gemma2')).toBe('blk.4.ffn_norm.weight');
    expect(ggufTensorName('model.layers.4.post_feedforward_layernorm.weight', 'gemma3')).toBe('blk.4.post_ffw_norm.weight');
  });
});

describe('q/k rows for the llama architecture', () => {
  it('reorders each head from rotate-half to interleaved pairs (hand example)', () => {
    // Rows are their own index. Two heads of D = 4: new row h*4 + 2i + j <- old row h*4 + j*2 + i.
    const rows = Float32Array.from({ length: 8 }, (_, i) => i);
    expect([...permuteQkRows(rows, 8, 1, 2)]).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    // One head of D = 8: pairs (x_i, x_{i+4}) become neighbours.
    expect([...permuteQkRows(rows, 8, 1, 1)]).toEqual([0, 4, 1, 5, 2, 6, 3, 7]);
    // Whole rows move (2 columns).
    expect([...permuteQkRows(Float32Array.from([10, 11, 20, 21, 30, 31, 40, 41]), 4, 2, 1)]).toEqual([10, 11, 30, 31, 20, 21, 40, 41]);
    expect([...permuteQkRows(permuteQkRows(rows, 8, 1, 2), 8, 1, 2, true)]).toEqual([...rows]);
  });

  it('makes llama.cpp\'s interleaved RoPE of the permuted rows equal the permuted rotate-half RoPE', () => {
    const D = 8;
    const q = Float32Array.from({ length: D }, (_, i) => Math.sin(i + 1));
    const angle = (i: number) => 3 * 10000 ** (-(2 * i) / D); // position 3
    const rotateHalf = new Float32Array(D); // Hugging Face: pairs (i, i + D/2)
    const interleaved = new Float32Array(D); // llama.cpp's normal mode: pairs (2i, 2i + 1)
    const p = permuteQkRows(q, D, 1, 1);
    for (let i = 0; i < D / 2; i++) {
      const [c, s] = [Math.cos(angle(i)), Math.sin(angle(i))];
      rotateHalf[i] = q[i] * c - q[i + D / 2] * s;
      rotateHalf[i + D / 2] = q[i + D / 2] * c + q[i] * s;
      interleaved[2 * i] = p[2 * i] * c - p[2 * i + 1] * s;
      interleaved[2 * i + 1] = p[2 * i + 1] * c + p[2 * i] * s;
    }
    expect([...interleaved]).toEqual([...permuteQkRows(rotateHalf, D, 1, 1)]);
  });

  it('permutes q over the attention heads and k over the KV heads, only for llama', () => {
    const c = tinyConfig('llama-untied'); // 4 heads, 2 KV heads, head_dim 16, hidden 64
    const q = Float32Array.from({ length: 64 * 64 }, (_, i) => i);
    const k = Float32Array.from({ length: 32 * 64 }, (_, i) => i);
    expect(toGgufValues('model.layers.0.self_attn.q_proj.weight', q, [64, 64], c, 'llama')).toEqual(permuteQkRows(q, 64, 64, 4));
    expect(toGgufValues('model.layers.0.self_attn.k_proj.weight', k, [32, 64], c, 'llama')).toEqual(permuteQkRows(k, 32, 64, 2));
    expect(toGgufValues('model.layers.0.self_attn.q_proj.weight', q, [64, 64], c, 'qwen2')).toBe(q);
    expect(toGgufValues('model.layers.0.self_attn.v_proj.weight', k, [32, 64], c, 'llama')).toBe(k);
  });
});

describe('Gemma norms', () => {
  it('are written as w + 1 (llama.cpp scales by the stored weight), and read back as w', () => {
    const c = tinyConfig('gemma3');
    const w = Float32Array.from([-0.5, 0, 0.25]);
    for (const name of ['model.norm.weight', 'model.layers.0.self_attn.q_norm.weight', 'model.layers.1.post_feedforward_layernorm.weight']) {
      const g = toGgufValues(name, w, [3], c, 'gemma3');
      expect([...g]).toEqual([0.5, 1, 1.25]);
      expect([...fromGgufValues(name, g, [3], c, 'gemma3')]).toEqual([...w]);
    }
    expect([...toGgufValues('model.norm.weight', w, [3], tinyConfig('qwen3'), 'qwen3')]).toEqual([...w]);
  });
});

describe('hyper-parameters', () => {
  const md = async (json: Record<string, unknown>) => {
    const a = architectureMetadata(parseModelConfig(json));
    return { arch: a.arch, warnings: a.warnings, kv: Object.fromEntries(readGguf(await writeGgufToBytes(a.metadata, [])).metadata) };
  };

  it('Llama: the llama.cpp keys, f32 eps and theta', async () => {
    const { arch, kv } = await md(hfConfigJson('llama-untied'));
    expect(arch).toBe('llama');
    expect(kv).toEqual({
      'general.architecture': 'llama', 'llama.vocab_size': 320, 'llama.context_length': 256, 'llama.embedding_length': 64, 'llama.block_count': 2,
      'llama.feed_forward_length': 128, 'llama.attention.head_count': 4, 'llama.attention.head_count_kv': 2, 'llama.attention.key_length': 16,
      'llama.attention.value_length': 16, 'llama.attention.layer_norm_rms_epsilon': Math.fround(1e-5), 'llama.rope.freq_base': 10000,
      'llama.rope.dimension_count': 16,
    });
  });

  it('Mistral is llama; Qwen2, Qwen3 and Gemma keep their names', async () => {
    expect((await md({ ...hfConfigJson('llama-untied'), architectures: ['MistralForCausalLM'], model_type: 'mistral' })).arch).toBe('llama');
    expect((await md(hfConfigJson('qwen2'))).kv['general.architecture']).toBe('qwen2');
    expect((await md(hfConfigJson('qwen3'))).kv['qwen3.attention.key_length']).toBe(16);
    const g2 = await md({ ...hfConfigJson('gemma3'), architectures: ['Gemma2ForCausalLM'], model_type: 'gemma2', attn_logit_softcapping: 50, final_logit_softcapping: 30, num_hidden_layers: 4 });
    expect(g2.kv).toMatchObject({ 'general.architecture': 'gemma2', 'gemma2.attn_logit_softcapping': 50, 'gemma2.final_logit_softcapping': 30, 'gemma2.attention.sliding_window': 8 });
    expect(g2.kv['gemma2.attention.sliding_window_pattern']).toEqual([true, false, true, false]);
  });

  it('Gemma 3: sliding window, its per-layer pattern and the local RoPE base', async () => {
    const { kv, warnings } = await md(hfConfigJson('gemma3'));
    expect(kv).toMatchObject({ 'gemma3.attention.sliding_window': 8, 'gemma3.rope.freq_base_swa': 10000, 'gemma3.rope.freq_base': 1_000_000 });
    expect(kv['gemma3.attention.sliding_window_pattern']).toEqual([true, true, true, true, true, false]);
    expect(warnings).toEqual([]);
    expect(() => architectureMetadata(parseModelConfig({ ...hfConfigJson('gemma3'), query_pre_attn_scalar: 64 }))).toThrow(/query_pre_attn_scalar 64 differs from head_dim 16/);
  });

  it('rope scaling: linear as keys, llama3 as the rope_freqs factors', async () => {
    const lin = await md({ ...hfConfigJson('qwen2'), rope_scaling: { type: 'linear', factor: 4 } });
    expect(lin.kv).toMatchObject({ 'qwen2.rope.scaling.type': 'linear', 'qwen2.rope.scaling.factor': 4 });
    const l3 = parseModelConfig({
      ...hfConfigJson('llama-untied'), rope_theta: 500000, head_dim: 128, num_attention_heads: 1, num_key_value_heads: 1,
      rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 },
    });
    const f = llama3RopeFactors(l3)!;
    expect(f.length).toBe(64);
    // wavelength 2 pi theta^(2i/128): short ones (< 8192/4 = 2048) keep factor 1, long ones (> 8192) get 8, a ramp between.
    expect(f[0]).toBe(1);
    expect(f[63]).toBe(8);
    expect([...f].every((v, i) => i === 0 || v >= f[i - 1])).toBe(true);
    expect(() => architectureMetadata(parseModelConfig({ ...hfConfigJson('qwen2'), rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192 } })))
      .toThrow(/only for the llama architecture/);
  });

  it('warns where llama.cpp ignores a sliding window', async () => {
    const { warnings } = await md({ ...hfConfigJson('llama-untied'), architectures: ['MistralForCausalLM'], model_type: 'mistral', sliding_window: 32 });
    expect(warnings).toEqual([expect.stringMatching(/sliding_window 32: llama.cpp's llama attends over the whole context/)]);
  });
});
