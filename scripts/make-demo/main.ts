/**
 * Makes the studio's bundled demo in public/demo/: a tiny Llama pretrained here on Jane Austen's
 * novels with the project's own WebGPU engine (ReLoRA cycles), its byte-level tokenizer, and a
 * small instruction dataset that a LoRA finetune visibly learns.
 *
 *   npm run make-demo [-- --out public/demo] [--corpus <extracted package dir>] [--cache <dir>]
 *                        [--cycles 6] [--steps-per-cycle 100] [--lr 5e-3] [--seed 1] [--data-only]
 *
 * --data-only rewrites the tokenizer files and the dataset and keeps the model as it is;
 * --readme-only recomputes the samples of the model there and rewrites pretraining.json and README.md.
 * Same seed, same machine: the same model (the kernels are deterministic).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine } from '../../src/engine/context';
import { acquireGpu } from '../../src/engine/device';
import { nodeGpu } from '../../src/engine/node-gpu';
import { bytesSource, openSafetensors, writeSafetensors } from '../../src/io/safetensors';
import { parseModelConfig } from '../../src/config/model-config';
import { CORPUS_PACKAGE, CORPUS_VERSION, loadCorpus } from './corpus';
import { ANSWERS, heldOutPrompts, instructionDataset, toJsonl } from './instructions';
import { bigramEmbeddings } from './embed-init';
import { DEMO_CONFIG_JSON, initialWeights, tensorShape } from './model-init';
import { pretrainData, tokenStream } from './pretrain-data';
import { pretrainRelora, type ReloraOptions } from './relora';
import { baseSamples, type PretrainRecord } from './record';
import { demoReadme } from './readme';
import { tokenizerConfigJson, tokenizerJson } from './tokenizer-files';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'public/demo' },
    corpus: { type: 'string' },
    cache: { type: 'string', default: 'node_modules/.cache/make-demo' },
    cycles: { type: 'string', default: '6' },
    'steps-per-cycle': { type: 'string', default: '100' },
    lr: { type: 'string', default: '5e-3' },
    seed: { type: 'string', default: '1' },
    'data-only': { type: 'boolean', default: false },
    'readme-only': { type: 'boolean', default: false },
  },
});

const out = values.out!;
const json = (name: string, v: unknown) => writeFileSync(join(out, name), JSON.stringify(v, null, 2) + '\n');
mkdirSync(out, { recursive: true });
if (values['readme-only']) {
  const record: PretrainRecord = JSON.parse(readFileSync(join(out, 'pretraining.json'), 'utf8'));
  const file = await openSafetensors(bytesSource(new Uint8Array(readFileSync(join(out, 'model.safetensors')))));
  const weights = new Map<string, Float32Array>();
  for (const name of file.names()) weights.set(name, await file.readF32(name));
  record.samples = baseSamples(parseModelConfig(DEMO_CONFIG_JSON), weights);
  json('pretraining.json', record);
  writeFileSync(join(out, 'README.md'), demoReadme(record, instructionDataset().length));
  console.log(`wrote ${out}/README.md`);
  process.exit(0);
}

json('tokenizer.json', tokenizerJson());
json('tokenizer_config.json', tokenizerConfigJson());
json('special_tokens_map.json', { bos_token: '<s>', eos_token: '</s>', pad_token: '<pad>' });
const records = instructionDataset();
writeFileSync(join(out, 'dataset.jsonl'), toJsonl(records));
// The held-out prompts: exact match (also the playground's prefilled prompts) and the same items as multiple choice.
const heldOut = heldOutPrompts();
mkdirSync(join(out, 'tasks'), { recursive: true });
writeFileSync(join(out, 'tasks', 'demo-tell-ask-shout-exact.jsonl'), toJsonl(heldOut));
const choices = Object.values(ANSWERS);
writeFileSync(join(out, 'tasks', 'demo-tell-ask-shout-mc.jsonl'), toJsonl(heldOut.map((h) => ({ context: h.prompt, choices, answer: choices.indexOf(h.answer as (typeof choices)[number]) }))));
console.log(`wrote tokenizer files, dataset.jsonl (${records.length} examples) and ${heldOut.length} held-out prompts to ${out}`);

if (!values['data-only']) {
  const seed = Number(values.seed);
  const opts: ReloraOptions = {
    cycles: Number(values.cycles), stepsPerCycle: Number(values['steps-per-cycle']), rank: 64, learningRate: Number(values.lr),
    warmupSteps: 5, microBatch: 4, seqLen: 64, seed,
  };
  const corpus = loadCorpus({ dir: values.corpus, cache: values.cache! });
  const text = [...corpus.texts.values()].join('\n');
  console.log(`corpus: ${CORPUS_PACKAGE} ${CORPUS_VERSION}, ${text.length} characters, sha256 ${corpus.sha256}`);

  const config = parseModelConfig(DEMO_CONFIG_JSON);
  const weights = initialWeights(config, seed);
  const heldOutTokens = 40_000;
  const stream = tokenStream(text);
  weights.set('model.embed_tokens.weight', bigramEmbeddings(stream.subarray(0, stream.length - heldOutTokens), config.vocabSize, config.hiddenSize, seed));
  const data = pretrainData(stream, { seqLen: opts.seqLen, microBatch: opts.microBatch, stepsPerCycle: opts.stepsPerCycle, seed, heldOut: heldOutTokens, validationWindows: 32 });
  const gpu = await acquireGpu(await nodeGpu());
  console.log(`pretraining on ${gpu.adapterInfo?.architecture ?? 'WebGPU'}: ${opts.cycles} ReLoRA cycles x ${opts.stepsPerCycle} steps x ${opts.microBatch} x ${opts.seqLen} tokens`);
  const started = performance.now();
  const cycles = await pretrainRelora(createEngine(gpu), config, weights, data, opts, console.log);
  const seconds = (performance.now() - started) / 1000;
  gpu.device.destroy();

  const tensors = [...weights].map(([name, data]) => ({ name, dtype: 'F32' as const, shape: tensorShape(config, name), data }));
  const bytes = writeSafetensors(tensors, { format: 'pt' });
  writeFileSync(join(out, 'model.safetensors'), bytes);
  json('config.json', DEMO_CONFIG_JSON);
  json('generation_config.json', { bos_token_id: config.bosTokenId, eos_token_id: config.eosTokenId, pad_token_id: 0, max_new_tokens: 64 });
  const record: PretrainRecord = {
    corpus: { package: CORPUS_PACKAGE, version: CORPUS_VERSION, characters: text.length, sha256: corpus.sha256 },
    options: opts, seconds, cycles, parameters: tensors.reduce((n, t) => n + t.data.length, 0), modelBytes: bytes.length,
    samples: baseSamples(config, weights),
  };
  json('pretraining.json', record);
  writeFileSync(join(out, 'README.md'), demoReadme(record, records.length));
  console.log(`wrote model.safetensors (${bytes.length} bytes), config.json, pretraining.json, README.md in ${seconds.toFixed(0)} s`);
}
