/**
 * Merging into Qwen3 and Gemma 3 checkpoints: the new norms (q/k head norms, Gemma's sandwich norms)
 * pass through unchanged, and the merged model's logits equal the base + adapter logits (F32
 * closely, BF16 within 16-bit rounding), windows and all.
 */
import { describe, expect, it } from 'vitest';
import { parseModelConfig, type ModelConfig } from '../../src/config/model-config';
import { mergeAdaptersToBytes } from '../../src/model/merge';
import { loaderOf, tinyWeights } from '../../src/model/synthetic';
import { bytesSource, openSafetensors } from '../../src/io/safetensors';
import { forward, type LoraWeights } from '../../src/reference';
import { mismatches } from '../gpu/gpu';
import { loraOf, randomAdapter } from './helpers';

const common = {
  vocab_size: 67, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 4,
  head_dim: 16, rms_norm_eps: 1e-6, max_position_embeddings: 64, tie_word_embeddings: true, torch_dtype: 'float32',
};
const CONFIGS: Record<string, Record<string, unknown>> = {
  qwen3: { ...common, architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', num_key_value_heads: 2, rope_theta: 1e6, attention_bias: false, hidden_act: 'silu' },
  gemma3: {
    ...common, architectures: ['Gemma3ForCausalLM'], model_type: 'gemma3_text', num_key_value_heads: 1, rope_theta: 1e6, rope_local_base_freq: 10000,
    query_pre_attn_scalar: 24, sliding_window: 4, layer_types: ['sliding_attention', 'full_attention'], hidden_activation: 'gelu_pytorch_tanh',
  },
};
const IDS = [3, 17, 5, 40, 66, 1, 9, 23, 2, 11];

function logits(config: ModelConfig, weights: Map<string, Float32Array>, lora: LoraWeights): Float32Array {
  const T = IDS.length;
  return Float32Array.from(forward({ config, weights }, lora, Int32Array.from(IDS), new Int32Array(T).fill(-100), 1, T).logits);
}

describe('merging adapters into Qwen3 and Gemma 3 checkpoints', () => {
  for (const [family, json] of Object.entries(CONFIGS)) {
    for (const dtype of ['F32', 'BF16'] as const) {
      it(`${family}, ${dtype}: the merged checkpoint gives the base + adapter logits; norms pass through`, async () => {
        const model = parseModelConfig(json);
        const weights = tinyWeights(model, 8);
        const adapter = randomAdapter(model, ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], 4, 8, 3);
        const base = { configJson: JSON.stringify(json), tensors: [...weights.keys()], load: loaderOf(weights) };
        const { weights: file, configJson } = await mergeAdaptersToBytes(base, [{ adapter, weight: 1 }], { dtype });
        const f = await openSafetensors(bytesSource(file, 'model.safetensors'));
        const merged = new Map<string, Float32Array>();
        for (const name of f.names()) merged.set(name, await f.readF32(name));
        expect([...merged.keys()].sort()).toEqual([...weights.keys()].sort());
        for (const name of [...weights.keys()].filter((n) => /norm\.weight$/.test(n))) {
          if (dtype === 'F32') expect(merged.get(name), name).toEqual(weights.get(name));
        }
        const mergedModel = parseModelConfig(JSON.parse(configJson));
        expect(mergedModel.qkNorm).toBe(true);
        const want = logits(model, weights, loraOf(adapter));
        const got = logits(mergedModel, merged, new Map());
        const spread = Math.max(...want) - Math.min(...want);
        expect(mismatches(got, want, dtype === 'F32' ? 1e-4 : 2e-2 * spread, 0)).toBeNull();
        expect(mismatches(logits(model, weights, new Map()), want, 1e-2, 0)).not.toBeNull(); // the adapter matters
      });
    }
  }
});
