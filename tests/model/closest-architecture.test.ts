// An unsupported architecture's refusal names the closest supported one, found by name (family and
// stem), not from a table of models.
import { describe, expect, it } from 'vitest';
import { architectureStem, closestArchitectures } from '../../src/config/closest-architecture';
import { resolveArchitecture, SUPPORTED_ARCHITECTURES } from '../../src/config/architectures';
import { ModelConfigError } from '../../src/config/model-config-error';

const closest = (...names: (string | undefined)[]) => closestArchitectures(names, SUPPORTED_ARCHITECTURES).map((a) => a.architecture);

describe('closestArchitectures', () => {
  it('stems drop the head class and separators', () => {
    expect(['Qwen3MoeForCausalLM', 'qwen3_moe', 'Gemma3ForConditionalGeneration', 'gemma3_text', 'QWenLMHeadModel', 'Qwen2_5_VLForConditionalGeneration'].map(architectureStem))
      .toEqual(['qwen3moe', 'qwen3moe', 'gemma3', 'gemma3text', 'qwen', 'qwen25vl']);
  });

  it.each([
    [['Qwen3MoeForCausalLM', 'qwen3_moe'], ['Qwen3ForCausalLM']],
    [['Qwen3NextForCausalLM', 'qwen3_next'], ['Qwen3ForCausalLM']],
    [['Qwen2MoeForCausalLM', 'qwen2_moe'], ['Qwen2ForCausalLM']],
    [['GemmaForCausalLM', 'gemma'], ['Gemma3ForCausalLM', 'Gemma2ForCausalLM']],
    [['Gemma3ForConditionalGeneration', 'gemma3'], ['Gemma3ForCausalLM']], // the multimodal 4B/12B/27B checkpoints
    [['Gemma3nForConditionalGeneration', 'gemma3n'], ['Gemma3ForCausalLM']],
    [['MixtralForCausalLM', 'mixtral'], ['MistralForCausalLM']],
    [['Mistral3ForConditionalGeneration', 'mistral3'], ['MistralForCausalLM']],
    [['Llama4ForCausalLM', 'llama4'], ['LlamaForCausalLM']],
    [[undefined, 'qwen3_moe'], ['Qwen3ForCausalLM']],
    [['Phi3ForCausalLM', 'phi3'], []],
    [['GPTNeoXForCausalLM', 'gpt_neox'], []],
    [['LlavaForConditionalGeneration', 'llava'], []], // one letter from "llama", but too short a name to trust that
    [['MiniCPMForCausalLM', 'minicpm'], []],
  ])('%j -> %j', (names, expected) => {
    expect(closest(...names)).toEqual(expected);
  });
});

describe('the refusal message', () => {
  const refuse = (json: Record<string, unknown>) => {
    try {
      resolveArchitecture(json);
    } catch (e) {
      expect(e).toBeInstanceOf(ModelConfigError);
      return (e as Error).message;
    }
    throw new Error('not refused');
  };

  it('names the closest supported architecture after the list', () => {
    const m = refuse({ architectures: ['Qwen3MoeForCausalLM'], model_type: 'qwen3_moe' });
    expect(m).toMatch(/^config\.json: architecture "Qwen3MoeForCausalLM" \(model_type "qwen3_moe"\) is not supported; supported: LlamaForCausalLM \(Llama 1\/2\/3, SmolLM, SmolLM2, TinyLlama\), /);
    expect(m).toMatch(/; the closest supported is Qwen3ForCausalLM \(Qwen3 \(dense\)\)$/);
  });

  it('names every architecture equally close', () => {
    expect(refuse({ architectures: ['GemmaForCausalLM'], model_type: 'gemma' }))
      .toMatch(/; the closest supported are Gemma3ForCausalLM \(Gemma 3 text \(270M, 1B\)\) and Gemma2ForCausalLM \(Gemma 2\)$/);
  });

  it('for a config with only model_type too', () => {
    expect(refuse({ model_type: 'mixtral' })).toMatch(/^config\.json: model_type "mixtral" is not supported; supported: .*; the closest supported is MistralForCausalLM \(Mistral\)$/);
  });

  it('says nothing more when nothing is close', () => {
    const m = refuse({ architectures: ['Phi3ForCausalLM'], model_type: 'phi3' });
    expect(m).toMatch(/^config\.json: architecture "Phi3ForCausalLM" \(model_type "phi3"\) is not supported; supported: [^;]*$/);
    expect(m).not.toContain('closest');
  });
});
