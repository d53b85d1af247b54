/**
 * Finetunes the demo the way the studio does (its dataset pipeline, the model's own template, the
 * GPU training graph) and shows what changed: seconds per step, the loss curve, and the answers of
 * the base model and of base + adapter to a few questions (greedy, on the CPU reference).
 *
 *   node --import tsx --import ./scripts/raw-import.mjs scripts/make-demo/finetune-check.ts \
 *     [--dir public/demo] [--steps 30] [--config '{"learningRate": 2e-4}']
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareDataset } from '../../src/data/prepare';
import { ModelTokenizer } from '../../src/data/tokenizer';
import { createEngine } from '../../src/engine/context';
import { acquireGpu } from '../../src/engine/device';
import { nodeGpu } from '../../src/engine/node-gpu';
import { bytesSource, openSafetensors } from '../../src/io/safetensors';
import { parseModelConfig } from '../../src/config/model-config';
import { buildTrainGraph } from '../../src/model/graph/train-graph';
import { loaderOf } from '../../src/model/synthetic';
import type { LoraWeights, RefModel } from '../../src/reference';
import { adapterFromGraph } from '../../src/train/adapter-export';
import { parseRunConfig } from '../../src/config/run-config';
import { train } from '../../src/train/trainer';
import { generate } from './sample';

const QUESTIONS = ['What is 3 + 5?', 'What is 7 plus 2?', 'What is the capital of France?', 'What is the opposite of hot?', 'What does a cow say?', 'Who wrote Emma?'];

const { values } = parseArgs({ options: { dir: { type: 'string', default: 'public/demo' }, steps: { type: 'string', default: '30' }, config: { type: 'string', default: '{}' } } });
const dir = values.dir!;
const readJson = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));
const config = parseModelConfig(readJson('config.json'));
const tok = new ModelTokenizer({ tokenizerJson: readJson('tokenizer.json'), tokenizerConfig: readJson('tokenizer_config.json'), name: dir });
const file = await openSafetensors(bytesSource(new Uint8Array(readFileSync(join(dir, 'model.safetensors')))));
const weights = new Map<string, Float32Array<ArrayBuffer>>();
for (const name of file.names()) weights.set(name, (await file.readF32(name)) as Float32Array<ArrayBuffer>);

const run = parseRunConfig({ maxSeqLen: 64, maxSteps: Number(values.steps), logEvery: 1, ...JSON.parse(values.config!) });
const data = prepareDataset(readFileSync(join(dir, 'dataset.jsonl')), 'dataset.jsonl', tok, { template: 'model', maxLen: run.maxSeqLen, seed: run.seed });
console.log(`dataset: ${data.train.length} examples, ${JSON.stringify(data.stats)}`);
console.log(`run: rank ${run.rank}, alpha ${run.alpha}, targets ${run.targets.join('+')}, lr ${run.learningRate}, ${run.schedule}, micro-batch ${run.microBatch}, seq ${run.maxSeqLen}`);

const gpu = await acquireGpu(await nodeGpu());
const engine = createEngine(gpu);
const g = await buildTrainGraph(engine, config, run, { load: loaderOf(weights) });
let last = performance.now();
const events = await train(g, {
  train: data.train, padId: tok.pad,
  onStep: (e) => {
    const now = performance.now();
    console.log(`step ${e.step}/${e.totalSteps}  loss ${e.loss.toFixed(3)}  ${((now - last) / 1000).toFixed(2)} s`);
    last = now;
  },
});
const adapter = await adapterFromGraph(g, dir);
gpu.device.destroy();
const first = events.slice(0, 5).reduce((s, e) => s + e.loss, 0) / Math.min(5, events.length);
const end = events.slice(-5).reduce((s, e) => s + e.loss, 0) / Math.min(5, events.length);
const perStep = events.length > 1 ? (events[events.length - 1].elapsedMs - events[0].elapsedMs) / 1000 / (events.length - 1) : NaN;
console.log(`mean loss of the first 5 steps ${first.toFixed(3)}, of the last 5 ${end.toFixed(3)}; ${perStep.toFixed(2)} s per step after the first`);

const model: RefModel = { config, weights };
const lora: LoraWeights = new Map(adapter.tensors.map((t) => [t.path, { A: t.A, B: t.B, r: t.r, scale: g.layout.slots.find((s) => s.path === t.path)!.scale }]));
const answer = (q: string, l: LoraWeights) => {
  const prompt = tok.encode(tok.applyChatTemplate([{ role: 'user', content: q }], { addGenerationPrompt: true }), { addSpecialTokens: false });
  return tok.decode(generate(model, l, prompt, { maxTokens: 40, temperature: 0, stopId: tok.eos, seed: 0 }));
};
for (const q of QUESTIONS) {
  console.log(`Q: ${q}\n  base:      ${JSON.stringify(answer(q, new Map()))}\n  + adapter: ${JSON.stringify(answer(q, lora))}`);
}
