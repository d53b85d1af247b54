/**
 * The demo does what it is for: the studio's pipeline (tokenizer, the model's own template, the
 * GPU training graph) finetunes it, and the loss falls within a few steps. SwiftShader in CI is
 * slow, so the run is short: 12 steps of 4 x 64 tokens.
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
import { parseRunConfig } from '../../src/config/run-config';
import { evaluate } from '../../src/train/step';
import { train } from '../../src/train/trainer';
import { epochBatches } from '../../src/data/batching';
import { testGpu } from '../gpu/gpu';

const DIR = join(__dirname, '../../public/demo');
const readJson = (f: string) => JSON.parse(readFileSync(join(DIR, f), 'utf8'));
const gpu = await testGpu();
const engines: Engine[] = [];
afterAll(() => engines.forEach((e) => e.pool.destroyAll()));

describe.skipIf(!gpu)('finetuning the demo on the GPU', () => {
  it('lowers the loss on held-out instruction examples within 12 steps (query + value + mlp, rank 4, alpha 8)', async () => {
    const config = parseModelConfig(readJson('config.json'));
    const tok = new ModelTokenizer({ tokenizerJson: readJson('tokenizer.json'), tokenizerConfig: readJson('tokenizer_config.json'), name: 'demo' });
    const file = await openSafetensors(bytesSource(new Uint8Array(readFileSync(join(DIR, 'model.safetensors')))));
    const weights = new Map<string, Float32Array<ArrayBuffer>>();
    for (const name of file.names()) weights.set(name, (await file.readF32(name)) as Float32Array<ArrayBuffer>);
    // The e2e flow's targets and rank; a learning rate for a model this small (see the demo's README).
    const run = parseRunConfig({ rank: 4, alpha: 8, targets: ['query', 'value', 'mlp'], learningRate: 1e-2, maxSteps: 12, maxSeqLen: 64, microBatch: 4, logEvery: 4 });
    const data = prepareDataset(readFileSync(join(DIR, 'dataset.jsonl')), 'dataset.jsonl', tok, { template: 'model', maxLen: run.maxSeqLen, seed: run.seed });
    const engine = createEngine(gpu!);
    engines.push(engine);
    const g = await buildTrainGraph(engine, config, run, { load: loaderOf(weights) });
    // Per-step losses are noisy (4 short answers a step), so compare a fixed held-out set.
    const heldOut = epochBatches(data.train.slice(-16), run.microBatch, run.maxSeqLen, tok.pad, 0, 0);
    const before = await evaluate(g, heldOut);
    const losses = (await train(g, { train: data.train.slice(0, -16), padId: tok.pad })).map((e) => e.loss);
    const after = await evaluate(g, heldOut);
    console.log(`demo finetune: held-out loss ${before.toFixed(3)} -> ${after.toFixed(3)}`);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(after).toBeLessThan(0.95 * before);
  }, 180_000);
});
