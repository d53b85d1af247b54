/**
 * A tiny model folder as File objects (what a person picks in the Model panel): a random
 * Llama-family model over the demo's byte-level tokenizer (259 ids), plus a small Alpaca dataset.
 */
import { writeSafetensors } from '../../src/io/safetensors';
import { tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { moduleShape } from '../../src/config/lora-targets';
import { tokenizerConfigJson, tokenizerJson, VOCAB_SIZE } from '../../scripts/make-demo/tokenizer-files';

export const TINY = tinyModelConfig({ vocabSize: VOCAB_SIZE, hiddenSize: 32, intermediateSize: 48, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 8, maxPositionEmbeddings: 128, bosTokenId: 1, eosTokenId: 2 });

function shapeOf(name: string): number[] {
  const c = TINY;
  if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return [c.vocabSize, c.hiddenSize];
  if (name.endsWith('norm.weight')) return [c.hiddenSize];
  const m = /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/.exec(name);
  if (m) {
    const s = moduleShape(m[1] as 'q_proj', c);
    return [s.out, s.in];
  }
  throw new Error(`no shape for ${name}`);
}

export function tinyModelFiles(): File[] {
  const config = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: TINY.vocabSize, hidden_size: TINY.hiddenSize,
    intermediate_size: TINY.intermediateSize, num_hidden_layers: TINY.numLayers, num_attention_heads: TINY.numHeads,
    num_key_value_heads: TINY.numKvHeads, head_dim: TINY.headDim, rms_norm_eps: TINY.rmsNormEps, rope_theta: TINY.ropeTheta,
    max_position_embeddings: TINY.maxPositionEmbeddings, tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2,
  };
  const tensors = [...tinyWeights(TINY, 3)].map(([name, data]) => ({ name, dtype: 'F32' as const, shape: shapeOf(name), data }));
  const json = (v: unknown) => JSON.stringify(v);
  return [
    new File([json(config)], 'config.json'),
    new File([json(tokenizerJson())], 'tokenizer.json'),
    new File([json(tokenizerConfigJson())], 'tokenizer_config.json'),
    new File([writeSafetensors(tensors, { format: 'pt' }) as Uint8Array<ArrayBuffer>], 'model.safetensors'),
  ];
}

export function alpacaFile(n = 24, name = 'tiny.jsonl'): File {
  const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ instruction: `Add ${i % 5} and ${i % 3}.`, input: '', output: `${(i % 5) + (i % 3)}.` }));
  return new File([lines.join('\n') + '\n'], name);
}
