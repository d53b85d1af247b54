/**
 * Full finetuning (method "full") through the studio worker in Node, on the bundled demo model:
 * - the keep path writes model.safetensors equal, tensor for tensor, to the trained graph's weights
 *   (readFullTensors), with config.json (float32), generation_config.json and the tokenizer files;
 * - a sweep over method lora / full gives comparable rows: trainable parameters (LoRA's count, the
 *   base model's), peak memory, losses and task scores for both; the full run's model is in the
 *   finetuned models library (not an adapter), linked from its run;
 *   scored on the validation split it gives the run's last validation loss (its weights reloaded);
 *   its download is a zip from_pretrained loads; delete with undo;
 * - a plain full run is named "Run 1 · full adamw lr 3e-3 f32"; a full library fails it with the
 *   storage error and loses nothing saved before.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { countBaseParams, countLoraParams } from '../../src/config/param-count';
import { modulesForTargets } from '../../src/config/lora-targets';
import { parseRunConfig } from '../../src/config/run-config';
import { createEngine, releaseEngine, type Engine } from '../../src/engine/context';
import { bytesSource, openSafetensors } from '../../src/io/safetensors';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { createCheckpointStore } from '../../src/io/stores/checkpoints';
import { createFullModelStore } from '../../src/io/stores/full-models';
import { memoryKv, withStorageErrors } from '../../src/io/stores/kv';
import { createRunStore } from '../../src/io/stores/runs';
import { StorageFullError } from '../../src/io/stores/storage-errors';
import { readFullTensors } from '../../src/model/graph/full-state';
import { buildTrainGraph } from '../../src/model/graph/train-graph';
import { train } from '../../src/train/trainer';
import type { DatasetOptions, ModelInfo, StudioApi } from '../../src/worker/api';
import { DEMO_MODEL_FILES } from '../../src/worker/demo';
import { saveFullModel } from '../../src/worker/full-models';
import { loadModel } from '../../src/worker/model';
import { createStudio } from '../../src/worker/studio';
import { nodeGpu, testGpu } from '../gpu/gpu';
import { alpacaFile } from './tiny-model';

const DIR = join(__dirname, '../../public/demo');
const demoFiles = () => DEMO_MODEL_FILES.map((f) => new File([readFileSync(join(DIR, f))], f));
const dataOptions: DatasetOptions = { template: 'model', maskPrompt: true, maxSeqLen: 48, validationFraction: 0.2, seed: 1 };
const base = {
  basePrecision: 'f32', rank: 4, alpha: 8, targets: ['query', 'value'], maxSteps: 4, microBatch: 8, maxSeqLen: 48, learningRate: 3e-3,
  schedule: 'constant', warmupSteps: 0, evalEvery: 2, logEvery: 1, checkpointEverySteps: 0,
};
const mcTask = new File([[1, 2, 3].map((k) => JSON.stringify({ context: `Add ${k} and 1.`, choices: [` ${k + 1}.`, ` ${k + 7}.`], answer: 0 })).join('\n')], 'add-mc.jsonl');
const tensorsOf = async (bytes: Uint8Array, name: string) => {
  const f = await openSafetensors(bytesSource(bytes, name));
  return new Map(await Promise.all(f.names().map(async (n) => [n, await f.readF32(n)] as const)));
};

const gpu = await testGpu();
const engines: Engine[] = [];
afterAll(async () => { for (const e of engines) await releaseEngine(e); });

describe.skipIf(!gpu)('full finetuning in the studio worker', () => {
  it('keeps model.safetensors equal to the trained graph\'s weights, with config, generation config and tokenizer', async () => {
    const m = await loadModel({ kind: 'files', files: demoFiles() }, () => {});
    const run = parseRunConfig({ ...base, method: 'full', maxSteps: 2, evalEvery: 0 });
    const engine = createEngine(gpu!);
    engines.push(engine);
    const g = await buildTrainGraph(engine, m.config, run, { load: m.loader() });
    const ids = Array.from({ length: 8 }, (_, i) => ({ ids: Array.from({ length: 20 }, (_, t) => 3 + ((i * 7 + t * 5) % 200)) }));
    await train(g, { train: ids, padId: 0 });
    const store = createFullModelStore(memoryKv());
    const meta = await saveFullModel(store, engine, g.full!, m, { name: 'kept', baseModel: m.info.name, trainableParams: m.info.baseParams });
    const files = await store.files(meta.id);
    const stored = await tensorsOf(files.weights, 'stored model.safetensors');
    const trained = await readFullTensors(engine, g.full!, g.full!.state.params);
    const original = await tensorsOf(readFileSync(join(DIR, 'model.safetensors')), 'demo model.safetensors');
    expect([...stored.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [name, t] of trained) expect(stored.get(name), name).toEqual(t.data);
    expect(stored.get('model.layers.0.self_attn.q_proj.weight')).not.toEqual(original.get('model.layers.0.self_attn.q_proj.weight'));
    expect(meta.sizeBytes).toBe(files.weights.byteLength);
    expect(JSON.parse(files.configJson)).toEqual({ ...JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')), torch_dtype: 'float32' });
    expect(files.generationConfigJson).toBe(readFileSync(join(DIR, 'generation_config.json'), 'utf8'));
    expect(files.tokenizer.map((f) => f.name)).toEqual(['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json']);
  }, 60_000);

  describe('a sweep over method lora / full', () => {
    const stores = { runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()), fullModels: createFullModelStore(memoryKv()), checkpoints: createCheckpointStore(memoryKv()), sweeps: memoryKv() };
    let studio: StudioApi;
    let info: ModelInfo;
    beforeAll(async () => {
      studio = createStudio({ gpu: () => nodeGpu().then((g) => g ?? undefined), ...stores });
      info = await studio.loadModel({ kind: 'files', files: demoFiles() });
      await studio.loadDataset(alpacaFile(), dataOptions);
    });

    it('gives comparable rows; the full run keeps its model (not an adapter), scored and downloadable', async () => {
      const done = await studio.startSweep({ base, axes: [['method', ['lora', 'full']]], tasks: [{ kind: 'upload', file: mcTask }] }, () => {});
      expect(done.entries.map((e) => [e.status, e.error])).toEqual([['done', undefined], ['done', undefined]]);
      const [lora, full] = done.entries;
      expect(lora.adapterId).toBeDefined();
      expect(full.adapterId).toBeUndefined();
      expect(full.fullModelId).toBeDefined();
      expect(lora.outcome!.trainableParams).toBe(countLoraParams(info.config, { r: 4, targetModules: modulesForTargets(['query', 'value']) }));
      expect(full.outcome!.trainableParams).toBe(countBaseParams(info.config));
      for (const e of [lora, full]) {
        expect(e.outcome!.peakMemoryBytes).toBeGreaterThan(0);
        expect(e.outcome!.finalValLoss).toBeGreaterThan(0);
        expect(Object.keys(e.outcome!.scores!).sort()).toEqual(['add-mc.acc', 'add-mc.acc_norm']);
      }
      expect(full.outcome!.peakMemoryBytes).toBeGreaterThan(lora.outcome!.peakMemoryBytes); // every weight's gradient and two moments

      // The full run: its model in its own library, no adapter; the run says so and links to it.
      expect((await studio.listAdapters()).map((a) => a.id)).toEqual([lora.adapterId]);
      const run = (await studio.listRuns()).find((r) => r.id === full.runId)!;
      expect(run.adapterId).toBeUndefined();
      expect(run.fullModelId).toBe(full.fullModelId);
      const [model] = await studio.listFullModels();
      expect(model).toMatchObject({ id: full.fullModelId, runId: run.id, baseModel: info.name, trainableParams: countBaseParams(info.config), name: run.name });

      // Reloaded from the library, the weights score the validation split as the trained graph did after its last step
      // (the 5 validation examples are one micro-batch, so the run's batch mean is the token mean the evaluation reports).
      const report = await studio.evaluateTask({ task: { kind: 'validation' }, base: true, adapterId: null, fullModelId: model.id });
      expect(report.scores.map((s) => s.fullModelId ?? null)).toEqual([null, model.id]);
      expect(report.scores[0].mean_loss!).toBeCloseTo(run.baseValLoss!, 4);
      expect(report.scores[1].mean_loss!).toBeCloseTo(run.final!.valLoss!, 4);
      expect(Math.abs(report.scores[1].mean_loss! - run.baseValLoss!)).toBeGreaterThan(1e-3);

      // The download: every file from_pretrained needs, the weights byte for byte.
      const d = await studio.exportFullModel(model.id);
      const zip = unzipSync(new Uint8Array(await d.zip.arrayBuffer()));
      expect(Object.keys(zip)).toEqual(['README.md', 'config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors']);
      expect(d.files.map((f) => f.name)).toEqual(Object.keys(zip));
      expect(zip['model.safetensors']).toEqual((await stores.fullModels.files(model.id)).weights);
      expect(JSON.parse(strFromU8(zip['config.json']))).toMatchObject({ model_type: 'llama', torch_dtype: 'float32' });
      const readme = strFromU8(zip['README.md']);
      expect(parse(/^---\n([\s\S]*?)\n---\n/.exec(readme)![1])).toMatchObject({ base_model: info.name, library_name: 'transformers', tags: ['full-finetune', 'finetune-studio'] });
      expect(readme).toContain('| Method | full finetuning: every base weight trained in f32 |');
      expect(readme).not.toContain('| LoRA |');

      // Delete with undo; a renamed run renames its model.
      await studio.editRun(run.id, { name: 'lr test' });
      expect((await studio.listFullModels())[0].name).toBe('lr test');
      await studio.trashFullModel(model.id);
      expect(await studio.listFullModels()).toEqual([]);
      await studio.restoreFullModel(model.id);
      expect(await studio.listFullModels()).toHaveLength(1);
      await studio.trashFullModel(model.id);
      await studio.emptyTrash();
      expect(await stores.fullModels.meta(model.id)).toBeUndefined();
    }, 120_000);

    it('a full library fails the run with the storage error; what was saved before is kept', async () => {
      const kv = memoryKv({ quotaBytes: 200_000 }); // the demo's model.safetensors is 536 KB
      const fullModels = createFullModelStore(withStorageErrors(kv, 'the finetuned model'));
      const small = await fullModels.save({ name: 'earlier', baseModel: 'm', trainableParams: 1 }, { weights: new Uint8Array(1000), configJson: '{}', generationConfigJson: '{}', tokenizer: [] });
      const runs = createRunStore(memoryKv());
      const s = createStudio({ gpu: () => nodeGpu().then((g) => g ?? undefined), runs, adapters: createAdapterStore(memoryKv()), fullModels, checkpoints: createCheckpointStore(memoryKv()) });
      await s.loadModel({ kind: 'files', files: demoFiles() });
      await s.loadDataset(alpacaFile(), dataOptions);
      const err = await s.startTraining({ ...base, method: 'full', maxSteps: 2 }, () => {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StorageFullError);
      expect((err as Error).message).toMatch(/^cannot save the finetuned model "Run 1 · full adamw lr 3e-3 f32" \(.*\): this site's browser storage is full/);
      expect((await fullModels.list()).map((m) => m.id)).toEqual([small.id]);
      expect((await fullModels.files(small.id)).weights.byteLength).toBe(1000);
      expect((await kv.keys()).sort()).toEqual([`files:${small.id}`, `meta:${small.id}`]);
      const [r] = await runs.list();
      expect(r.status).toBe('failed');
      expect(await runs.points(r.id)).toHaveLength(2); // its curve is kept
      expect(await s.listAdapters()).toEqual([]);
    }, 60_000);
  });
});
