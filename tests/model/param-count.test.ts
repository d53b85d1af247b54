import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseModelConfig } from '../../src/config/model-config';
import { countBaseParams, countLoraParams } from '../../src/config/param-count';
import { modulesForTargets, TARGETS } from '../../src/config/lora-targets';

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
});
