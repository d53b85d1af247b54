/**
 * Lion, Adafactor and Sophia each finetune the demo: 50 steps of LoRA (rank 4 on query + value,
 * 2 x 32 tokens a step) lower the loss on the training examples and on held-out ones, as AdamW
 * does in demo-finetune.test.ts. Learning rates follow each optimizer's convention: Lion and Sophia step
 * every coordinate by about the learning rate, so they take a smaller one than AdamW's (the demo's
 * README uses 1e-2 for this small model).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareDataset } from '../../src/data/prepare';
import { ModelTokenizer } from '../../src/data/tokenizer';
import { createEngine, type Engine } from '../../src/engine/context';
import { bytesSource, openSafetensors } from '../../src/io/safetensors';
import { parseModelConfig } from '../../src/config/model-config';
import { buildTrainGraph } from '../../src/model/graph/train-graph';
import { loaderOf } from '../../src/model/synthetic';
import { parseRunConfig, type RunConfigInput } from '../../src/config/run-config';
import { evaluate } from '../../src/train/step';
import { train } from '../../src/train/trainer';
import { epochBatches } from '../../src/data/batching';
import { testGpu } from '../gpu/gpu';

const DIR = join(__dirname, '../../public/demo');
const readJson = (f: string) => JSON.parse(readFileSync(join(DIR, f), 'utf8'));
const gpu = await testGpu();
const engines: Engine[] = [];
afterAll(() => engines.forEach((e) => e.pool.destroyAll()));

const CASES: [string, RunConfigInput][] = [
  ['lion', { optimizer: 'lion', learningRate: 2e-3 }],
  ['adafactor', { optimizer: 'adafactor', learningRate: 1e-2 }],
  ['sophia', { optimizer: 'sophia', learningRate: 2e-3 }],
];

describe.skipIf(!gpu)('the demo finetunes with Lion, Adafactor and Sophia', async () => {
  const config = parseModelConfig(readJson('config.json'));
  const tok = new ModelTokenizer({ tokenizerJson: readJson('tokenizer.json'), tokenizerConfig: readJson('tokenizer_config.json'), name: 'demo' });
  const file = await openSafetensors(bytesSource(new Uint8Array(readFileSync(join(DIR, 'model.safetensors')))));
  const weights = new Map<string, Float32Array<ArrayBuffer>>();
  for (const name of file.names()) weights.set(name, (await file.readF32(name)) as Float32Array<ArrayBuffer>);

  for (const [name, over] of CASES) {
    it(`${name}: 50 steps lower the training and the held-out loss`, async () => {
      const run = parseRunConfig({ rank: 4, alpha: 8, targets: ['query', 'value'], maxSteps: 50, maxSeqLen: 32, microBatch: 2, logEvery: 10, schedule: 'constant', ...over });
      const data = prepareDataset(readFileSync(join(DIR, 'dataset.jsonl')), 'dataset.jsonl', tok, { template: 'model', maxLen: run.maxSeqLen, seed: run.seed });
      const engine = createEngine(gpu!);
      engines.push(engine);
      const g = await buildTrainGraph(engine, config, run, { load: loaderOf(weights) });
      // Per-step losses are noisy (2 short answers a step): compare fixed sets before and after, 8
      // training examples (the training loss) and 8 held out.
      const trainSet = data.train.slice(0, -8);
      const fixed = epochBatches(trainSet.slice(0, 8), run.microBatch, run.maxSeqLen, tok.pad, 0, 0);
      const heldOut = epochBatches(data.train.slice(-8), run.microBatch, run.maxSeqLen, tok.pad, 0, 0);
      const before = { train: await evaluate(g, fixed), heldOut: await evaluate(g, heldOut) };
      const losses = (await train(g, { train: trainSet, padId: tok.pad })).map((e) => e.loss);
      const after = { train: await evaluate(g, fixed), heldOut: await evaluate(g, heldOut) };
      console.log(`demo ${name}: training loss ${before.train.toFixed(3)} -> ${after.train.toFixed(3)}, held-out ${before.heldOut.toFixed(3)} -> ${after.heldOut.toFixed(3)}`);
      expect(losses).toHaveLength(50);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(after.train).toBeLessThan(0.95 * before.train);
      expect(after.heldOut).toBeLessThan(before.heldOut);
      engine.pool.destroyAll();
    }, 240_000);
  }
});
