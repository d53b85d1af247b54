/**
 * The hostile-file corpus, generated (nothing big is committed): broken models (safetensors
 * headers, offsets, NaN weights, absurd or malformed config.json, a tokenizer that does not match
 * vocab_size) and broken datasets (a 50 MB line, invalid UTF-8, deep nesting, empty, binary).
 * Each case carries the specific message the studio's loaders and the CLI must give.
 */
import { writeSafetensors } from '../../src/io/safetensors';
import { tinyModelConfig, tinyWeights } from '../../src/model/synthetic';
import { moduleShape } from '../../src/config/lora-targets';
import type { ModelConfig } from '../../src/config/model-config';
import { tokenizerConfigJson, tokenizerJson, VOCAB_SIZE } from '../../scripts/make-demo/tokenizer-files';

export type Files = Record<string, Uint8Array | string>;
type ErrorName = 'BadFileError' | 'ModelConfigError' | 'DatasetError';

export interface ModelCase {
  name: string;
  files: Files;
  /** The studio's message (loadModel, or startTraining for `stage: 'train'`). */
  message: RegExp;
  error: ErrorName;
  /** Found when the weights are read for training (the CLI's `inspect --check-weights`). */
  stage?: 'train';
  /** The CLI's message where it differs from the studio's. */
  cli?: RegExp;
}

export interface DataCase {
  name: string;
  file: string;
  data: () => Uint8Array | string;
  message: RegExp;
}

const enc = (s: string) => new TextEncoder().encode(s);

function shapeOf(c: ModelConfig, name: string): number[] {
  if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') return [c.vocabSize, c.hiddenSize];
  if (name.endsWith('norm.weight')) return [c.hiddenSize];
  const m = /\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.weight$/.exec(name)!;
  const s = moduleShape(m[1] as 'q_proj', c);
  return [s.out, s.in];
}

/** A tiny Llama over the demo's byte-level tokenizer (259 ids), as files; `vocabSize` resizes the embedding table. */
export function modelFiles(opts: { vocabSize?: number; config?: Record<string, unknown>; poison?: { tensor: string; index: number; value: number } } = {}): Files {
  const c = tinyModelConfig({ vocabSize: opts.vocabSize ?? VOCAB_SIZE, hiddenSize: 32, intermediateSize: 48, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 8, maxPositionEmbeddings: 128, bosTokenId: 1, eosTokenId: 2 });
  const config = {
    architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: c.vocabSize, hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize, num_hidden_layers: c.numLayers, num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads, head_dim: c.headDim, rms_norm_eps: c.rmsNormEps, rope_theta: c.ropeTheta,
    max_position_embeddings: c.maxPositionEmbeddings, tie_word_embeddings: false, bos_token_id: 1, eos_token_id: 2,
    ...opts.config,
  };
  const tensors = [...tinyWeights(c, 3)].map(([name, data]) => {
    if (opts.poison?.tensor === name) data[opts.poison.index] = opts.poison.value;
    return { name, dtype: 'F32' as const, shape: shapeOf(c, name), data };
  });
  return {
    'config.json': JSON.stringify(config),
    'tokenizer.json': JSON.stringify(tokenizerJson()),
    'tokenizer_config.json': JSON.stringify(tokenizerConfigJson()),
    'model.safetensors': writeSafetensors(tensors, { format: 'pt' }),
  };
}

/** A safetensors file with its 8-byte length replaced and/or its header JSON rewritten. */
function rewriteSafetensors(bytes: Uint8Array, edit: { length?: bigint; header?: (h: Record<string, { data_offsets?: number[] }>) => void; cut?: number }): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  let out = bytes.slice();
  if (edit.header) {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { data_offsets?: number[] }>;
    edit.header(header);
    const text = enc(JSON.stringify(header));
    out = new Uint8Array(8 + text.length + bytes.length - 8 - n);
    new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
    out.set(text, 8);
    out.set(bytes.subarray(8 + n), 8 + text.length);
  }
  if (edit.length !== undefined) new DataView(out.buffer).setBigUint64(0, edit.length, true);
  if (edit.cut !== undefined) out = out.slice(0, edit.cut);
  return out;
}

const good = modelFiles();
const weights = good['model.safetensors'] as Uint8Array;
const withConfig = (over: Record<string, unknown>): Files => ({ ...good, 'config.json': JSON.stringify({ ...JSON.parse(good['config.json'] as string), ...over }) });
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

export const MODEL_CASES: ModelCase[] = [
  { name: 'truncated safetensors header', files: { ...good, 'model.safetensors': weights.slice(0, 64) }, error: 'BadFileError',
    message: /model\.safetensors: header length \d+ runs past the end of the file \(64 bytes\); the file is truncated or not safetensors/ },
  { name: 'oversized header length (2^40)', files: { ...good, 'model.safetensors': rewriteSafetensors(weights, { length: 2n ** 40n }) }, error: 'BadFileError',
    message: /model\.safetensors: header length 1099511627776 runs past the end of the file \(\d+ bytes\)/ },
  { name: 'tensor offsets outside the file', error: 'BadFileError',
    files: { ...good, 'model.safetensors': rewriteSafetensors(weights, { header: (h) => { h['model.norm.weight'].data_offsets = [900000000, 900000128]; } }) },
    message: /model\.safetensors: tensor "model\.norm\.weight": data_offsets \[900000000, 900000128\] run past the end of the data section \(\d+ bytes\); the file is truncated/ },
  { name: 'a file cut in its data section', files: { ...good, 'model.safetensors': weights.slice(0, weights.length - 1000) }, error: 'BadFileError',
    message: /model\.safetensors: tensor "[^"]+": data_offsets \[\d+, \d+\] run past the end of the data section/ },
  { name: 'an empty safetensors file', files: { ...good, 'model.safetensors': new Uint8Array(0) }, error: 'BadFileError',
    message: /model\.safetensors: file is too short \(0 bytes\) to hold the 8-byte header length; it is not a safetensors file/ },
  { name: 'NaN weights', stage: 'train', error: 'BadFileError', files: modelFiles({ poison: { tensor: 'model.layers.1.mlp.up_proj.weight', index: 37, value: NaN } }),
    message: /model\.safetensors: tensor "model\.layers\.1\.mlp\.up_proj\.weight" F32 \[48,32\] holds 1 non-finite value \(NaN or infinity\), the first at index 37 \(row 1, column 5\): the weights are corrupt/ },
  { name: 'infinite weights', stage: 'train', error: 'BadFileError', files: modelFiles({ poison: { tensor: 'model.norm.weight', index: 0, value: -Infinity } }),
    message: /tensor "model\.norm\.weight" F32 \[32\] holds 1 non-finite value \(NaN or infinity\), the first at index 0:/ },
  { name: 'config.json: hidden size 10^9', files: withConfig({ hidden_size: 1e9 }), error: 'ModelConfigError',
    message: /config\.json: hidden_size 1000000000 is beyond any real model \(at most \d+\)/ },
  { name: 'config.json: 10^6 layers', files: withConfig({ num_hidden_layers: 1e6 }), error: 'ModelConfigError',
    message: /config\.json: num_hidden_layers 1000000 is beyond any real model \(at most \d+\)/ },
  { name: 'config.json: vocabulary of 10^12', files: withConfig({ vocab_size: 1e12 }), error: 'ModelConfigError',
    message: /config\.json: vocab_size 1000000000000 is beyond any real model/ },
  { name: 'config.json: negative size', files: withConfig({ intermediate_size: -48 }), error: 'ModelConfigError',
    message: /config\.json: field "intermediate_size" must be a positive integer, got -48/ },
  { name: 'config.json: non-integer size', files: withConfig({ hidden_size: 32.5 }), error: 'ModelConfigError',
    message: /config\.json: field "hidden_size" must be a positive integer, got 32\.5/ },
  { name: 'config.json: a size as text', files: withConfig({ num_attention_heads: '4' }), error: 'ModelConfigError',
    message: /config\.json: field "num_attention_heads" must be a positive integer, got "4"/ },
  { name: 'config.json: 100000 levels of [', files: { ...good, 'config.json': deep(100_000) }, error: 'BadFileError',
    message: /config\.json: JSON nested more than 64 levels deep/ },
  { name: 'config.json: a field nested 100000 levels', files: { ...good, 'config.json': `{"vocab_size": ${deep(100_000)}}` }, error: 'BadFileError',
    message: /config\.json: JSON nested more than 64 levels deep/ },
  { name: 'config.json: empty', files: { ...good, 'config.json': '' }, error: 'BadFileError', message: /config\.json: is empty/ },
  { name: 'config.json: binary', files: { ...good, 'config.json': Uint8Array.from({ length: 300 }, (_, i) => (i * 97 + 13) & 0xff) }, error: 'BadFileError',
    message: /config\.json: is not valid JSON/ },
  { name: 'a tokenizer with more ids than vocab_size', files: modelFiles({ vocabSize: 200 }), error: 'BadFileError',
    message: /tokenizer\.json: has 259 token ids \(0 to 258\) but config\.json's vocab_size is 200: the embedding table has no row for ids 200 and up\. The tokenizer belongs to another model/ },
  { name: 'tokenizer.json: 100000 levels of [', files: { ...good, 'tokenizer.json': deep(100_000) }, error: 'BadFileError',
    message: /tokenizer\.json: JSON nested more than 64 levels deep/ },
];

/** A padded embedding table (more rows than token ids) is normal and loads. */
export const PADDED_VOCAB = () => modelFiles({ vocabSize: 320 });

const alpaca = (i: number) => JSON.stringify({ instruction: `Add ${i} and 1.`, input: '', output: `${i + 1}.` });

export const DATA_CASES: DataCase[] = [
  { name: 'a single 50 MB line', file: 'huge.jsonl',
    data: () => { const b = new Uint8Array(50 * 2 ** 20).fill(0x78); b.set(enc(`${alpaca(1)}\n{"instruction": "`)); return b; },
    message: /huge\.jsonl, line 2: the line is 50\.0 MB long, over the 4\.0 MB limit for one record/ },
  { name: 'invalid UTF-8', file: 'latin1.jsonl', data: () => new Uint8Array([...enc(`${alpaca(1)}\n{"instruction": "caf`), 0xe9, ...enc('", "output": "x"}\n')]),
    message: /latin1\.jsonl: not valid UTF-8 \(line 2, byte \d+ is 0xe9\); the file is probably in another encoding/ },
  { name: 'deeply nested JSON lines', file: 'deep.jsonl', data: () => `{"instruction": ${deep(100_000)}, "output": "x"}\n`,
    message: /deep\.jsonl, line 1 \(example 1\): JSON nested more than 64 levels deep/ },
  { name: 'deeply nested JSON array', file: 'deep.json', data: () => deep(100_000),
    message: /deep\.json: JSON nested more than 64 levels deep/ },
  { name: 'an empty file', file: 'empty.jsonl', data: () => '', message: /empty\.jsonl: the file is empty/ },
  { name: 'a binary file named .jsonl (PNG)', file: 'image.jsonl', data: () => new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3, 0xff]),
    message: /image\.jsonl: this is a binary file \(a PNG image\), not text; a dataset is UTF-8 text/ },
  { name: 'a binary file named .jsonl (NUL bytes)', file: 'data.jsonl', data: () => new Uint8Array([...enc('{"instruction": "'), 0, 1, 2, 3, ...enc('", "output": "x"}')]),
    message: /data\.jsonl: this is a binary file \(NUL byte at byte 17\), not text; a dataset is UTF-8 text/ },
  { name: 'an executable named .jsonl', file: 'a.out.jsonl', data: () => new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0x3e, 0]),
    message: /a\.out\.jsonl: this is a binary file \(an executable\), not text/ },
];

export const GOOD_DATA = () => Array.from({ length: 12 }, (_, i) => alpaca(i)).join('\n') + '\n';
