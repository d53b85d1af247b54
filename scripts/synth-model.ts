// Write a random Llama-family model folder (config.json + model.safetensors) and a learnable
// pre-tokenized dataset, for measuring the trainer:
//   node --import tsx scripts/synth-model.ts <dir> [hidden=128] [layers=4] [vocab=1024] [ffn=4*hidden*2/3] [examples=64] [len=65]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors } from '../src/io/safetensors';
import { chainDataset, tinyModelConfig, tinyWeights } from '../src/model/synthetic';

const [dir, hidden = '128', layers = '4', vocab = '1024', ffnArg, examples = '64', len = '65'] = process.argv.slice(2);
if (!dir) throw new Error('usage: synth-model.ts <dir> [hidden] [layers] [vocab] [ffn] [examples] [len]');
const C = Number(hidden);
const heads = Math.max(1, C / 32);
const c = tinyModelConfig({
  hiddenSize: C, numLayers: Number(layers), vocabSize: Number(vocab), intermediateSize: Number(ffnArg ?? Math.round((8 * C) / 3 / 8) * 8),
  numHeads: heads, numKvHeads: Math.max(1, heads / 2), headDim: 32,
});
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'config.json'), JSON.stringify({
  architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: c.vocabSize, hidden_size: c.hiddenSize,
  intermediate_size: c.intermediateSize, num_hidden_layers: c.numLayers, num_attention_heads: c.numHeads,
  num_key_value_heads: c.numKvHeads, rms_norm_eps: c.rmsNormEps, rope_theta: c.ropeTheta, tie_word_embeddings: false,
}, null, 2));
const tensors = [...tinyWeights(c)].map(([name, data]) => ({ name, dtype: 'F32' as const, shape: [data.length], data }));
writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors, { format: 'pt' }));
writeFileSync(join(dir, 'train.jsonl'), chainDataset(c.vocabSize, Number(examples), Number(len)).map((e) => JSON.stringify({ tokens: e.ids })).join('\n') + '\n');
console.log(`wrote ${dir}: hidden ${C}, ${c.numLayers} layers, vocab ${c.vocabSize}, ffn ${c.intermediateSize}, ${examples} examples of ${len} tokens`);
