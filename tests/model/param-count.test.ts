import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/config/model-config';
import { countBaseParams, countLoraParams } from '../../src/config/param-count';
import { modulesForTargets, TARGETS } from '../../src/config/lora-targets';
import { expectedTensors } from '../../src/io/model-source/weight-files';
import { expectedShape } from '../../src/model/merge/shapes';
import { tinyModelConfig, tinyWeights } from '../../src/model/synthetic';

const llama2 = parseModelConfig(JSON.parse(readFileSync('tests/fixtures/configs/llama-2-7b.json', 'utf8')));

describe('trainable parameter count', () => {
  it('Llama-2-7B, r=8 on query+value is 4,194,304 (the PEFT figure)', () => {
    expect(countLoraParams(llama2, { r: 8, targetModules: modulesForTargets(['query', 'value']) })).toBe(4_194_304);
  });

  it('Llama-2-7B, r=8 on all six targets is 20,277,248', () => {
    expect(countLoraParams(llama2, { r: 8, targetModules: modulesForTargets(TARGETS) })).toBe(20_277_248);
  });

  it('honours a per-layer rank pattern', () => {
    const base = countLoraParams(llama2, { r: 8, targetModules: ['q_proj'] });
    const patterned = countLoraParams(llama2, { r: 8, targetModules: ['q_proj'], rankPattern: { 'model.layers.0.self_attn.q_proj': 16 } });
    expect(patterned - base).toBe(8 * (4096 + 4096));
  });

  it('counts the Llama-2-7B base model (6,738,415,616 parameters)', () => {
    expect(countBaseParams(llama2)).toBe(6_738_415_616);
  });

  it('handles GQA, biases and tied embeddings', () => {
    const qwenLike = parseModelConfig({
      model_type: 'qwen2', vocab_size: 100, hidden_size: 16, intermediate_size: 40, num_hidden_layers: 2,
      num_attention_heads: 4, num_key_value_heads: 2, tie_word_embeddings: true,
    });
    // per layer: q 16x16, k,v 16x8, o 16x16, gate/up/down 16x40 x3, two norms, q/k/v bias 16+8+8
    const perLayer = 256 + 128 + 128 + 256 + 3 * 640 + 32 + 32;
    expect(countBaseParams(qwenLike)).toBe(100 * 16 + 2 * perLayer + 16);
    // r=2 on key: 2 * (16 + 8) per layer
    expect(countLoraParams(qwenLike, { r: 2, targetModules: ['k_proj'] })).toBe(2 * 2 * 24);
  });

  it('counts the q/k head norms (Qwen3) and the four sandwich norms (Gemma)', () => {
    const base = { vocab_size: 100, hidden_size: 16, intermediate_size: 40, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8 };
    const linears = 16 * 32 + 2 * 16 * 16 + 32 * 16 + 3 * 16 * 40; // q (32 out), k, v (16 out), o, MLP
    const qwen3 = parseModelConfig({ ...base, architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', tie_word_embeddings: true });
    expect(countBaseParams(qwen3)).toBe(100 * 16 + 2 * (linears + 2 * 16 + 2 * 8) + 16);
    const gemma3 = parseModelConfig({ ...base, architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text' });
    expect(countBaseParams(gemma3)).toBe(100 * 16 + 2 * (linears + 4 * 16 + 2 * 8) + 16);
    const gemma2 = parseModelConfig({ ...base, architectures: ['Gemma2ForCausalLM'], model_type: 'gemma2' });
    expect(countBaseParams(gemma2)).toBe(100 * 16 + 2 * (linears + 4 * 16) + 16);
  });
});

describe('the tensors a checkpoint must hold', () => {
  const configs = ['llama-2-7b', 'qwen3-0.6b', 'gemma-3-1b-it', 'gemma-3-270m'].map((n) => parseModelConfig(JSON.parse(readFileSync(`tests/fixtures/configs/${n}.json`, 'utf8'))));

  it.each(configs.map((c) => [c.architecture!, c.numLayers, c] as const))('%s (%i layers): expectedTensors add up to countBaseParams', (_, __, c) => {
    let total = 0;
    for (const shape of expectedTensors(c).values()) total += shape.reduce((a, b) => a * b, 1);
    expect(total).toBe(countBaseParams(c));
  });

  it('names the Gemma 3 norms with their shapes, for loading and for merging', () => {
    const g = configs[2];
    const t = expectedTensors(g);
    for (const n of ['input_layernorm', 'post_attention_layernorm', 'pre_feedforward_layernorm', 'post_feedforward_layernorm']) {
      expect(t.get(`model.layers.25.${n}.weight`)).toEqual([1152]);
      expect(expectedShape(`model.layers.25.${n}.weight`, g)).toEqual([1152]);
    }
    for (const n of ['q_norm', 'k_norm']) {
      expect(t.get(`model.layers.0.self_attn.${n}.weight`)).toEqual([256]);
      expect(expectedShape(`model.layers.0.self_attn.${n}.weight`, g)).toEqual([256]);
    }
    expect(t.has('lm_head.weight')).toBe(false); // tied
    expect(t.has('model.layers.0.pre_feedforward_layernorm.weight')).toBe(true);
    expect(expectedTensors(configs[0]).has('model.layers.0.pre_feedforward_layernorm.weight')).toBe(false);
  });

  it('tinyWeights writes exactly the expected tensors, Gemma norms near 0 (stored as w - 1)', () => {
    const c = tinyModelConfig({ modelType: 'gemma3_text', qkNorm: true, normPlusOne: true, sandwichNorms: true, mlpActivation: 'gelu_tanh', tieWordEmbeddings: true });
    const w = tinyWeights(c);
    const want = expectedTensors(c);
    expect([...w.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [name, shape] of want) expect(w.get(name)!.length).toBe(shape.reduce((a, b) => a * b, 1));
    expect(Math.max(...w.get('model.layers.0.post_feedforward_layernorm.weight')!.map(Math.abs))).toBeLessThan(0.11);
    expect(Math.min(...tinyWeights(tinyModelConfig())!.get('model.layers.0.input_layernorm.weight')!)).toBeGreaterThan(0.89);
  });
});
