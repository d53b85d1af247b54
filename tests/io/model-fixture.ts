/**
 * Tiny models in Hugging Face layout written the way real checkpoints are: 2-D linears, a mix of
 * F16, BF16 and F32 tensors, unsharded or sharded with model.safetensors.index.json, with the
 * tiny-char tokenizer. `weights` holds what a correct loader must return: the values after the
 * round trip through each tensor's dtype (computed here, independently of the loader).
 */
import { f32ArrayToBf16, f32ArrayToF16, bf16ArrayToF32, f16ArrayToF32 } from '../../src/core/half';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Dtype } from '../../src/io/safetensors/dtypes';
import { writeSafetensors, type TensorToWrite } from '../../src/io/safetensors/writer';
import { parseModelConfig, type ModelConfig } from '../../src/config/model-config';
import { tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { expectedTensors } from '../../src/io/model-source/weight-files';

export const TOKENIZER_DIR = 'tests/fixtures/tokenizers/tiny-char';

export interface TinyHfModel {
  /** File name -> content, as a repo or folder would hold them. */
  files: Record<string, Uint8Array | string>;
  config: ModelConfig;
  /** Tensor -> the f32 values the loader must produce. */
  weights: Map<string, Float32Array<ArrayBuffer>>;
  dtypes: Map<string, Dtype>;
}

export interface TinyOptions {
  /** Qwen2: q/k/v biases and tied embeddings. */
  qwen?: boolean;
  /** Number of shards (1 = a single model.safetensors). */
  shards?: number;
  /** Llama 3 RoPE scaling in config.json. */
  llama3Rope?: boolean;
  seed?: number;
  tokenizer?: boolean;
}

const DTYPES: Dtype[] = ['F16', 'BF16', 'F32'];

function encode(data: Float32Array, dtype: Dtype): { bytes: ArrayBufferView; back: Float32Array<ArrayBuffer> } {
  if (dtype === 'F16') {
    const h = f32ArrayToF16(data);
    return { bytes: h, back: f16ArrayToF32(h) as Float32Array<ArrayBuffer> };
  }
  if (dtype === 'BF16') {
    const h = f32ArrayToBf16(data);
    return { bytes: h, back: bf16ArrayToF32(h) as Float32Array<ArrayBuffer> };
  }
  return { bytes: data, back: new Float32Array(data) };
}

export function configJsonOf(opts: TinyOptions = {}): Record<string, unknown> {
  const c = tinyModelConfig();
  return {
    architectures: [opts.qwen ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'], model_type: opts.qwen ? 'qwen2' : 'llama',
    vocab_size: c.vocabSize, hidden_size: c.hiddenSize, intermediate_size: c.intermediateSize, num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads, num_key_value_heads: c.numKvHeads, rms_norm_eps: c.rmsNormEps, rope_theta: opts.llama3Rope ? 500000 : c.ropeTheta,
    max_position_embeddings: 64, tie_word_embeddings: !!opts.qwen, hidden_act: 'silu', torch_dtype: 'bfloat16',
    bos_token_id: 1, eos_token_id: 2,
    ...(opts.llama3Rope ? { rope_scaling: { rope_type: 'llama3', factor: 32, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 } } : {}),
    ...(opts.qwen ? { use_sliding_window: false, sliding_window: 4096 } : {}),
  };
}

export function tinyHfModel(opts: TinyOptions = {}): TinyHfModel {
  const configJson = configJsonOf(opts);
  const config = parseModelConfig(configJson);
  const raw = tinyWeights(config, opts.seed ?? 3);
  const shapes = expectedTensors(config);
  const weights = new Map<string, Float32Array<ArrayBuffer>>();
  const dtypes = new Map<string, Dtype>();
  const tensors: TensorToWrite[] = [];
  [...raw.keys()].sort().forEach((name, i) => {
    const dtype = DTYPES[i % DTYPES.length];
    const { bytes, back } = encode(raw.get(name)!, dtype);
    tensors.push({ name, dtype, shape: shapes.get(name)!, data: bytes });
    weights.set(name, back);
    dtypes.set(name, dtype);
  });
  const files: TinyHfModel['files'] = { 'config.json': JSON.stringify(configJson, null, 2) };
  const n = opts.shards ?? 1;
  if (n === 1) {
    files['model.safetensors'] = writeSafetensors(tensors, { format: 'pt' });
  } else {
    const weightMap: Record<string, string> = {};
    const per = Math.ceil(tensors.length / n);
    for (let s = 0; s < n; s++) {
      const name = `model-${String(s + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;
      const part = tensors.slice(s * per, (s + 1) * per);
      files[name] = writeSafetensors(part, { format: 'pt' });
      for (const t of part) weightMap[t.name] = name;
    }
    const totalSize = tensors.reduce((a, t) => a + t.data.byteLength, 0);
    files['model.safetensors.index.json'] = JSON.stringify({ metadata: { total_size: totalSize }, weight_map: weightMap });
  }
  if (opts.tokenizer !== false) {
    files['tokenizer.json'] = readFileSync(join(TOKENIZER_DIR, 'tokenizer.json'), 'utf8');
    files['tokenizer_config.json'] = readFileSync(join(TOKENIZER_DIR, 'tokenizer_config.json'), 'utf8');
  }
  files['generation_config.json'] = JSON.stringify({ bos_token_id: 1, eos_token_id: 2 });
  return { files, config, weights, dtypes };
}

/** Writes the files into `dir` (created). */
export function writeModelDir(dir: string, files: TinyHfModel['files']): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

/** The files as File objects, as a folder pick gives them (webkitRelativePath "folder/name"). */
export function asFiles(files: TinyHfModel['files'], folder = 'tiny-model'): File[] {
  return Object.entries(files).map(([name, content]) => {
    const f = new File([typeof content === 'string' ? content : new Uint8Array(content)], name, { lastModified: 1 });
    Object.defineProperty(f, 'webkitRelativePath', { value: `${folder}/${name}` });
    return f;
  });
}
