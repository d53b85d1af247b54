/**
 * A fully finetuned model used like an adapter, through the studio worker in Node on the bundled
 * demo model (a 5-step full run, kept with saveFullModel as a studio run keeps it):
 * - the playground generates from the stored model.safetensors the greedy tokens a decoder built
 *   directly on the trained weights gives; it refuses a finetune of another model; its memory
 *   stays bounded (a second finetuned model replaces the first; deleting one, or loading a model,
 *   frees it);
 * - its GGUF (the stored weights as the model) reads back with every tensor equal to the stored
 *   weights in f32, the tokenizer from its own files; q8_0 with its Modelfile.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config/run-config';
import { createEngine, releaseEngine, type Engine } from '../../src/engine/context';
import { fromGgufValues, ggufTensorName, readGguf } from '../../src/io/gguf';
import { bytesSource, openSafetensors } from '../../src/io/safetensors';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { createCheckpointStore } from '../../src/io/stores/checkpoints';
import { createFullModelStore, type FullModelMeta } from '../../src/io/stores/full-models';
import { memoryKv } from '../../src/io/stores/kv';
import { createRunStore } from '../../src/io/stores/runs';
import { createDecoder } from '../../src/model/generate';
import { buildTrainGraph, type TrainGraph } from '../../src/model/graph/train-graph';
import { train } from '../../src/train/trainer';
import type { GenerateRequest, StudioApi } from '../../src/worker/api';
import { DEMO_MODEL_FILES } from '../../src/worker/demo';
import { saveFullModel } from '../../src/worker/full-models';
import { loadModel, type LoadedModel } from '../../src/worker/model';
import { createStudio } from '../../src/worker/studio';
import { nodeGpu, testGpu } from '../gpu/gpu';

const DIR = join(__dirname, '../../public/demo');
const demoFiles = () => DEMO_MODEL_FILES.map((f) => new File([readFileSync(join(DIR, f))], f));
const PROMPT = 'Q: Mira shouts at the crowd.\nA: ';
const req: GenerateRequest = { prompt: PROMPT, adapterId: null, useTemplate: false, maxNewTokens: 12, temperature: 0, topK: 0, topP: 1, seed: 0, stopAtEos: false };

const gpu = await testGpu();
const engines: Engine[] = [];
afterAll(async () => { for (const e of engines) await releaseEngine(e); });

describe.skipIf(!gpu)('a fully finetuned model in the playground and as GGUF', () => {
  const fullModels = createFullModelStore(memoryKv());
  let m: LoadedModel;
  let g: TrainGraph;
  let saved: FullModelMeta;
  let studio: StudioApi;
  beforeAll(async () => {
    m = await loadModel({ kind: 'files', files: demoFiles() }, () => {});
    const engine = createEngine(gpu!);
    engines.push(engine);
    const run = parseRunConfig({ method: 'full', basePrecision: 'f32', maxSteps: 5, microBatch: 8, maxSeqLen: 24, learningRate: 1e-2, schedule: 'constant', warmupSteps: 0, evalEvery: 0, logEvery: 1, checkpointEverySteps: 0 });
    g = await buildTrainGraph(engine, m.config, run, { load: m.loader() });
    const ids = Array.from({ length: 8 }, (_, i) => ({ ids: Array.from({ length: 20 }, (_, t) => 3 + ((i * 7 + t * 5) % 200)) }));
    await train(g, { train: ids, padId: 0 });
    saved = await saveFullModel(fullModels, engine, g.full!, m, { name: 'five steps', baseModel: m.info.name, trainableParams: m.info.baseParams });
    studio = createStudio({ gpu: () => nodeGpu().then((x) => x ?? undefined), runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()), fullModels, checkpoints: createCheckpointStore(memoryKv()) });
    await studio.loadModel({ kind: 'files', files: demoFiles() });
  }, 120_000);

  it('generates from the stored weights the greedy tokens of a decoder on the trained weights, and refuses a finetune of another model', async () => {
    const promptIds = m.tokenizer.encode(PROMPT, { addSpecialTokens: true });
    const direct = await createDecoder(g.engine, m.config, g.base, null, { maxLen: 64 });
    const want = await direct.generate(promptIds, { maxNewTokens: 12, temperature: 0, stopIds: [] });
    direct.destroy();
    expect(want).toHaveLength(12);

    let streamed = '';
    const got = await studio.generate({ ...req, fullModelId: saved.id }, (d) => { streamed += d; });
    expect(got.tokens).toBe(12);
    expect(got.text).toBe(m.tokenizer.decode(want, { skipSpecialTokens: true }));
    expect(streamed).toBe(got.text);
    const base = await studio.generate(req, () => {});
    expect(base.text).not.toBe(got.text); // the stored weights, not the base model's

    const other = await fullModels.save({ name: 'elsewhere', baseModel: 'someone/else', trainableParams: 1 }, await fullModels.files(saved.id));
    await expect(studio.generate({ ...req, fullModelId: other.id }, () => {})).rejects.toThrow(/"elsewhere" is a finetune of someone\/else, but .* is loaded: load someone\/else in Model & data to try it in the playground/);
    await expect(studio.generate({ ...req, adapterId: 'a', fullModelId: saved.id }, () => {})).rejects.toThrow(/an adapter or a finetuned model, not both/);
  }, 120_000);

  it('keeps one finetuned model\'s weights at a time beside the base model\'s, and frees them', async () => {
    await studio.generate(req, () => {});
    const baseOnly = (await studio.gpuMemory()).bytes;
    await studio.generate({ ...req, fullModelId: saved.id }, () => {});
    const withOne = (await studio.gpuMemory()).bytes;
    expect(withOne - baseOnly).toBeGreaterThan(saved.sizeBytes); // its own f32 weights and decoder
    const second = await fullModels.save({ name: 'again', baseModel: m.info.name, trainableParams: 1 }, await fullModels.files(saved.id));
    await studio.generate({ ...req, fullModelId: second.id }, () => {});
    expect((await studio.gpuMemory()).bytes).toBe(withOne); // the first one's engine was released
    await studio.trashFullModel(second.id); // deleting forgets its decoder
    await new Promise((r) => setTimeout(r, 0));
    expect((await studio.gpuMemory()).bytes).toBe(baseOnly);
    await studio.restoreFullModel(second.id);
    await studio.generate({ ...req, fullModelId: second.id }, () => {});
    await studio.loadModel({ kind: 'files', files: demoFiles() }); // a new model: the playground lets everything go
    await new Promise((r) => setTimeout(r, 0));
    expect((await studio.gpuMemory()).bytes).toBe(0);
  }, 120_000);

  it('downloads the stored model as GGUF: f32 tensors equal to the stored weights, q8_0 with its Modelfile', async () => {
    const stored = await openSafetensors(bytesSource((await fullModels.files(saved.id)).weights));
    const progress: number[] = [];
    const d = await studio.exportFullModelGguf(saved.id, 'f32', (p) => progress.push(p.bytes / p.totalBytes));
    expect(d.fileName).toBe('five_steps-f32.gguf');
    expect(progress.at(-1)).toBe(1);
    const file = readGguf(new Uint8Array(await d.gguf.arrayBuffer()));
    expect(file.metadata.get('general.name')).toBe('five steps');
    expect(file.metadata.get('general.file_type')).toBe(0);
    expect((file.metadata.get('tokenizer.ggml.tokens') as string[]).length).toBe(m.config.vocabSize);
    expect(file.tensors).toHaveLength(stored.names().length);
    for (const name of stored.names()) {
      const shape = stored.info(name).shape;
      const back = fromGgufValues(name, file.f32(ggufTensorName(name, 'llama')!), shape, m.config, 'llama');
      expect(back, name).toEqual(await stored.readF32(name));
    }

    const q = await studio.exportFullModelGguf(saved.id, 'q8_0');
    expect(q.fileName).toBe('five_steps-q8_0.gguf');
    expect(readGguf(new Uint8Array(await q.gguf.arrayBuffer())).metadata.get('general.file_type')).toBe(7);
    expect(q.bytes).toBeLessThan(d.bytes / 3);
    expect(q.modelfile.name).toBe('five_steps-q8_0.Modelfile');
    expect(new TextDecoder().decode(q.modelfile.bytes)).toMatch(/^FROM \.\/five_steps-q8_0\.gguf$/m);
    await expect(studio.exportFullModelGguf(saved.id, 'q2_k')).rejects.toThrow(/GGUF type "q2_k" is not one of/);
  }, 120_000);

  it('takes the tokenizer of a model kept without one from its loaded base model, and says so otherwise', async () => {
    const files = await fullModels.files(saved.id);
    const bare = await fullModels.save({ name: 'bare', baseModel: m.info.name, trainableParams: 1 }, { ...files, tokenizer: [] });
    const d = await studio.exportFullModelGguf(bare.id, 'f16');
    expect((readGguf(new Uint8Array(await d.gguf.arrayBuffer())).metadata.get('tokenizer.ggml.tokens') as string[]).length).toBe(m.config.vocabSize);
    const orphan = await fullModels.save({ name: 'orphan', baseModel: 'someone/else', trainableParams: 1 }, { ...files, tokenizer: [] });
    await expect(studio.exportFullModelGguf(orphan.id, 'f16')).rejects.toThrow(/orphan\/tokenizer\.json.*load its base model someone\/else in Model & data/);
  }, 60_000);
});
