/**
 * Malformed model inputs, each answered with its own message (never a crash, never a generic
 * error): what a person gets when a folder, a pick or a repo is not a usable model.
 */
import { describe, expect, it } from 'vitest';
import { openFilesModel, openModel, summarizeModel, type ModelSource } from '../../src/io/model-source';
import { BadFileError } from '../../src/core/errors';
import { ModelConfigError } from '../../src/config/model-config-error';
import { writeSafetensors } from '../../src/io/safetensors/writer';
import { fileModelFiles } from '../../src/io/model-source/local-files';
import { asFiles, configJsonOf, tinyHfModel, type TinyHfModel } from './model-fixture';

type Files = TinyHfModel['files'];
const base = tinyHfModel();
const shardedBase = tinyHfModel({ shards: 3 });

function without(files: Files, ...names: string[]): Files {
  return Object.fromEntries(Object.entries(files).filter(([k]) => !names.includes(k)));
}
function withConfig(over: Record<string, unknown>, files: Files = base.files): Files {
  return { ...files, 'config.json': JSON.stringify({ ...configJsonOf(), ...over }) };
}
/** The weights with one tensor replaced (name, dtype, shape, bytes). */
function withTensor(name: string, dtype: 'F32' | 'I8', shape: number[]): Files {
  const tensors = [...base.weights].map(([n, w]) => (n === name
    ? { name, dtype, shape, data: dtype === 'I8' ? new Int8Array(w.length) : new Float32Array(w.length) }
    : { name: n, dtype: 'F32' as const, shape: [w.length], data: w }));
  return { ...base.files, 'model.safetensors': writeSafetensors(tensors) };
}

/** Opens the model from File objects and does what a load does: index, weights, tokenizer. */
async function useModel(files: Files): Promise<ModelSource> {
  const src = await openFilesModel(asFiles(files));
  await src.prepareWeights();
  const load = src.loader();
  for (const name of base.weights.keys()) await load(name);
  await summarizeModel(src);
  return src;
}

const index = JSON.parse(shardedBase.files['model.safetensors.index.json'] as string) as { weight_map: Record<string, string> };
const firstTensor = Object.keys(index.weight_map)[0];

const CASES: [string, Files, RegExp, (new (...a: never[]) => Error)?][] = [
  ['no config.json', without(base.files, 'config.json'), /tiny-model\/config.json: file is missing: folder "tiny-model" is not a model in Hugging Face layout/],
  ['config.json that is not JSON', { ...base.files, 'config.json': '{"vocab_size": 67,' }, /config.json: is not valid JSON/],
  ['an unsupported architecture', withConfig({ architectures: ['GPTNeoXForCausalLM'], model_type: 'gpt_neox' }), /architecture "GPTNeoXForCausalLM" \(model_type "gpt_neox"\) is not supported; supported: LlamaForCausalLM/, ModelConfigError],
  ['an absurd config (hidden 10^9)', withConfig({ hidden_size: 1e9 }), /hidden_size 1000000000 is beyond any real model/, ModelConfigError],
  ['a mixture of experts', withConfig({ num_local_experts: 8 }), /"num_local_experts": 8 describes a mixture-of-experts model/, ModelConfigError],
  ['no tokenizer.json', without(base.files, 'tokenizer.json'), /tiny-model\/tokenizer.json: file is missing\. the studio tokenizes with the model's own tokenizer.json/],
  ['only tokenizer.model (SentencePiece)', { ...without(base.files, 'tokenizer.json'), 'tokenizer.model': 'spm' }, /tokenizer.json: file is missing\. It has only tokenizer.model \(a SentencePiece file\);/],
  ['a tokenizer.json that is not a tokenizer', { ...base.files, 'tokenizer.json': '{"version": "1.0"}' }, /tokenizer.json: has no "model" with a "vocab"/],
  ['a missing shard', without(shardedBase.files, 'model-00002-of-00003.safetensors'), /model-00002-of-00003.safetensors: file is missing: a shard of this sharded checkpoint; model.safetensors.index.json lists 3 shards \(model-00001-of-00003.safetensors, model-00002-of-00003.safetensors, model-00003-of-00003.safetensors\): get every one of them/],
  ['shards without their index', without(shardedBase.files, 'model.safetensors.index.json'), /model.safetensors.index.json: file is missing: the weights are sharded \(.*\) and the index that maps tensors to shards is needed too/],
  ['an index without weight_map', { ...shardedBase.files, 'model.safetensors.index.json': '{"metadata": {}}' }, /model.safetensors.index.json: has no "weight_map" object/],
  ['an index naming a file outside the folder', { ...shardedBase.files, 'model.safetensors.index.json': JSON.stringify({ weight_map: { ...index.weight_map, [firstTensor]: '../../etc/passwd.safetensors' } }) }, /maps tensor ".*" to "..\/..\/etc\/passwd.safetensors", which is not a .safetensors file name in the model folder/],
  ['a shard without a tensor the index promises', { ...shardedBase.files, 'model.safetensors.index.json': JSON.stringify({ weight_map: { ...index.weight_map, 'model.norm.weight': 'model-00001-of-00003.safetensors' } }) }, /model-00001-of-00003.safetensors: has no tensor "model.norm.weight", though model.safetensors.index.json says it does/],
  ['a truncated safetensors file', { ...base.files, 'model.safetensors': (base.files['model.safetensors'] as Uint8Array).subarray(0, 20_000) }, /model.safetensors: tensor ".*": data_offsets \[\d+, \d+\] run past the end of the data section .* the file is truncated/],
  ['a file cut inside its header', { ...base.files, 'model.safetensors': (base.files['model.safetensors'] as Uint8Array).subarray(0, 100) }, /model.safetensors: header length \d+ runs past the end of the file \(100 bytes\); the file is truncated or not safetensors/],
  ['a missing tensor', withConfig({ num_hidden_layers: 3 }), /the weights lack tensor "model.layers.2.input_layernorm.weight" \(and \d+ more\): it does not match config.json \(LlamaForCausalLM, 3 layers\)/],
  ['no lm_head although untied', { ...base.files, 'model.safetensors': writeSafetensors([...base.weights].filter(([n]) => n !== 'lm_head.weight').map(([name, data]) => ({ name, dtype: 'F32' as const, shape: [data.length], data }))) }, /lack tensor "lm_head.weight": config.json says tie_word_embeddings: false, yet there is no separate head/],
  ['a transposed matrix', withTensor('model.layers.0.mlp.up_proj.weight', 'F32', [32, 48]), /tensor "model.layers.0.mlp.up_proj.weight" has shape \[32, 48\] but config.json implies \[48, 32\]/],
  ['a quantized checkpoint', withTensor('model.layers.1.self_attn.q_proj.weight', 'I8', [32, 32]), /tensor "model.layers.1.self_attn.q_proj.weight" is I8: a quantized checkpoint \(GPTQ, AWQ, bitsandbytes, FP8\) cannot be trained here/],
  ['only PyTorch .bin weights', { ...without(base.files, 'model.safetensors'), 'pytorch_model.bin': 'x' }, /has only PyTorch pickle weights \(\*.bin \/ \*.pth\); the studio reads safetensors/],
  ['a GGUF file', { ...without(base.files, 'model.safetensors'), 'model-q4.gguf': 'x' }, /has GGUF weights \(for llama.cpp\)/],
  ['a LoRA adapter folder', { 'config.json': base.files['config.json'], 'adapter_config.json': '{}', 'adapter_model.safetensors': 'x' }, /holds a LoRA adapter \(adapter_model.safetensors\), not a base model/],
  ['no weights at all', without(base.files, 'model.safetensors'), /model.safetensors: file is missing: no model weights in folder "tiny-model" \(expected model.safetensors, or model.safetensors.index.json with its shards\)/],
];

describe('malformed model inputs', () => {
  it.each(CASES)('%s', async (_, files, message, type = BadFileError) => {
    const err = await useModel(files).then(() => null, (e: Error) => e);
    expect(err, 'expected an error').not.toBeNull();
    expect(err).toBeInstanceOf(type);
    expect(err!.message).toMatch(message);
  });

  it('has a corpus of at least 15 cases, and the sources stay usable after each', async () => {
    expect(CASES.length).toBeGreaterThanOrEqual(15);
    await useModel(base.files); // nothing global broke
  });

  it('refuses two different files with one name, and an empty pick', () => {
    const a = new File(['a'], 'config.json');
    const b = new File(['bb'], 'config.json');
    expect(() => fileModelFiles([a, b])).toThrow(/config.json: was chosen twice/);
    expect(() => fileModelFiles([])).toThrow(/nothing was chosen/);
  });

  it('loads a tensor the checkpoint lacks with a message, not a crash', async () => {
    const src = await openModel(fileModelFiles(asFiles(base.files)));
    await expect(src.loader()('model.layers.9.mlp.up_proj.weight')).rejects.toThrow(/the weights have no tensor "model.layers.9.mlp.up_proj.weight"/);
  });
});
