/**
 * The worker's API end to end in Node (WebGPU through the `webgpu` package): model from File
 * objects, dataset, estimate, training with events, pause / resume / stop, the run and adapter
 * stores, PEFT export and import, generation with and without the adapter, merging, a lost device.
 */
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { DatasetError } from '../../src/data/errors';
import { DeviceLostError } from '../../src/engine/errors';
import { openSafetensors, bytesSource } from '../../src/io/safetensors';
import { readGguf } from '../../src/io/gguf';
import { memoryKv } from '../../src/io/stores/kv';
import { createRunStore } from '../../src/io/stores/runs';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { countLoraParams } from '../../src/config/param-count';
import { moduleShape } from '../../src/config/lora-targets';
import type { DatasetOptions, StartOptions, StudioApi, TrainEvent } from '../../src/worker/api';
import { createStudio } from '../../src/worker/studio';
import { nodeGpu, testGpu } from '../gpu/gpu';
import { alpacaFile, TINY, tinyModelFiles } from './tiny-model';

const dataOptions: DatasetOptions = { template: 'model', maskPrompt: true, maxSeqLen: 48, validationFraction: 0.2, seed: 1 };
const run = { rank: 4, alpha: 8, targets: ['query', 'value', 'mlp'], maxSteps: 4, microBatch: 2, maxSeqLen: 48, evalEvery: 2, logEvery: 1, learningRate: 3e-3, warmupSteps: 0, schedule: 'constant' };

let studio: StudioApi;
let available = false;

beforeAll(async () => {
  available = (await testGpu()) !== null;
  studio = createStudio({ gpu: () => nodeGpu().then((g) => g ?? undefined), runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()) });
});

async function train(config: object, onEvent: (e: TrainEvent) => void = () => {}, options?: StartOptions) {
  const events: TrainEvent[] = [];
  const result = await studio.startTraining(config, (e) => { events.push(e); onEvent(e); }, options);
  return { events, result };
}

describe('studio worker API', () => {
  it('loads a model from files and a dataset, with previews split into prompt and trained parts', async () => {
    if (!available) return;
    const progress: string[] = [];
    const info = await studio.loadModel({ kind: 'files', files: tinyModelFiles() }, (p) => progress.push(p.file));
    expect(info.config.hiddenSize).toBe(TINY.hiddenSize);
    expect(progress).toContain('config.json');
    const d = await studio.loadDataset(alpacaFile(), dataOptions);
    expect(d.examples).toBe(24);
    expect(d.validation).toBe(5);
    expect(d.lengths).toHaveLength(24);
    const segs = d.preview[0].segments;
    expect(segs.some((s) => !s.train && /Q: Add 0 and 0/.test(s.text))).toBe(true);
    expect(segs.some((s) => s.train && /0\./.test(s.text))).toBe(true);
  });

  it('a malformed dataset is refused with its line; the loaded one stays usable', async () => {
    if (!available) return;
    const bad = new File(['{"instruction":"a","output":"b"}\n{"instruction": "x", "output"\n'], 'broken.jsonl');
    const err = await studio.loadDataset(bad, dataOptions).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetError);
    expect((err as Error).message).toMatch(/broken\.jsonl, line 2/);
    expect((await studio.estimate(run)).examples).toBe(19); // the earlier dataset is still loaded
  });

  it('estimates parameters, memory, tokens and steps', async () => {
    if (!available) return;
    const e = await studio.estimate(run);
    expect(e.trainableParams).toBe(countLoraParams(TINY, { r: 4, targetModules: ['q_proj', 'v_proj', 'gate_proj', 'up_proj', 'down_proj'] }));
    expect(e.steps).toBe(4);
    expect(e.memory.total).toBeGreaterThan(0);
    expect(e.memory.byCategory.lora).toBeGreaterThan(0);
    expect(e.problems).toEqual([]);
    expect(e.tokensPerEpoch).toBeGreaterThan(e.lossTokensPerEpoch);
  });

  it('trains, streams events, saves the run and a PEFT adapter with the shapes the config implies', async () => {
    if (!available) return;
    const { events, result } = await train(run);
    expect(events.filter((e) => e.type !== 'phase')[0].type).toBe('started');
    expect(events.some((e) => e.type === 'phase' && e.phase === 'loading-weights')).toBe(true);
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.map((e) => e.type === 'step' && e.point.step)).toEqual([1, 2, 3, 4]);
    expect(steps.some((e) => e.type === 'step' && e.point.evalLoss !== undefined)).toBe(true);
    expect(result.run.status).toBe('completed');
    expect(result.run.final?.steps).toBe(4);
    expect((await studio.runPoints(result.run.id)).length).toBe(4);
    expect((await studio.listRuns())[0].id).toBe(result.run.id);

    const [zip] = await studio.exportAdapter(result.adapter!.id, 'zip');
    const files = unzipSync(zip.bytes);
    expect(Object.keys(files).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    expect(new TextDecoder().decode(files['README.md'])).toMatch(/^---\nbase_model: .*\nlibrary_name: "peft"/);
    const cfg = JSON.parse(new TextDecoder().decode(files['adapter_config.json']));
    expect(cfg).toMatchObject({ peft_type: 'LORA', r: 4, lora_alpha: 8 });
    const st = await openSafetensors(bytesSource(files['adapter_model.safetensors']));
    expect(st.metadata).toEqual({ format: 'pt' });
    expect(st.names()).toHaveLength(2 * TINY.numLayers * 5);
    const A = st.info('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight');
    const B = st.info('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight');
    const s = moduleShape('down_proj', TINY);
    expect([A.dtype, A.shape, B.shape]).toEqual(['F32', [4, s.in], [s.out, 4]]);
  }, 120_000);

  it('imports an exported adapter, generates with and without it, and merges it', async () => {
    if (!available) return;
    const [first] = await studio.listAdapters();
    const [zip] = await studio.exportAdapter(first.id, 'zip');
    const imported = await studio.importAdapter([new File([zip.bytes as Uint8Array<ArrayBuffer>], 'mine.zip')]);
    expect(imported.lora.r).toBe(4);
    expect(imported.origin).toBe('imported');

    const req = { prompt: 'Add 1 and 2.', useTemplate: true, maxNewTokens: 6, temperature: 0, topK: 0, topP: 1, seed: 0, stopAtEos: false };
    let streamed = '';
    const base = await studio.generate({ ...req, adapterId: null }, (d) => { streamed += d; });
    expect(base.tokens).toBe(6);
    expect(streamed).toBe(base.text);
    const tuned = await studio.generate({ ...req, adapterId: imported.id }, () => {});
    expect(tuned.tokens).toBe(6);

    const merged = await studio.mergeAdapters([{ id: first.id, weight: 1 }], 'F16');
    const bundle = unzipSync(new Uint8Array(await merged.zip.arrayBuffer()));
    expect(Object.keys(bundle)).toEqual(merged.files.map((f) => f.name));
    expect(Object.keys(bundle)).toEqual(expect.arrayContaining(['README.md', 'config.json', 'generation_config.json', 'tokenizer.json', 'model.safetensors']));
    const m = await openSafetensors(bytesSource(bundle['model.safetensors']));
    expect(m.info('model.layers.0.self_attn.q_proj.weight').dtype).toBe('F16');
    expect(merged.mergedModules).toBe(TINY.numLayers * 5);

    // GGUF downloads of the adapter and of the merge, with Modelfiles; the run for a cluster trainer.
    const lora = await studio.exportGguf({ what: 'adapter', type: 'f32', adapterId: first.id });
    const gguf = readGguf(new Uint8Array(await lora.gguf.arrayBuffer()));
    expect([gguf.metadata.get('general.type'), gguf.metadata.get('adapter.type')]).toEqual(['adapter', 'lora']);
    expect(new TextDecoder().decode(lora.modelfile.bytes)).toContain(`ADAPTER ./${lora.fileName}`);
    const progress: number[] = [];
    const q = await studio.exportGguf({ what: 'merged', type: 'q4_k_m', adapterId: first.id }, (p) => progress.push(p.bytes / p.totalBytes));
    expect(readGguf(new Uint8Array(await q.gguf.arrayBuffer())).metadata.get('general.file_type')).toBe(15);
    expect(progress[progress.length - 1]).toBe(1);
    const trainer = await studio.exportTrainer(first.runId!, 'axolotl');
    expect(Object.keys(unzipSync(trainer.bytes)).sort()).toEqual(['README.md', 'axolotl.yaml', 'data/train.jsonl', 'data/validation.jsonl']);
  }, 120_000);

  it('continues training from a stored adapter of the same shape, and names the mismatch otherwise', async () => {
    if (!available) return;
    const [first] = (await studio.listAdapters()).filter((a) => a.origin === 'trained');
    const { result } = await train({ ...run, maxSteps: 2 }, () => {}, { initialAdapterId: first.id });
    expect(result.run.status).toBe('completed');
    const err = await studio.startTraining({ ...run, rank: 8, alpha: 16 }, () => {}, { initialAdapterId: first.id }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/needs the adapter's shape: rank 4, alpha 8/);
  }, 120_000);

  it('pauses without losing the GPU state, resumes, and stops with the adapter saved', async () => {
    if (!available) return;
    let paused = false;
    let stepsWhilePaused = -1;
    const seen: TrainEvent[] = [];
    const count = () => seen.filter((x) => x.type === 'step').length;
    const { events, result } = await train({ ...run, maxSteps: 200, evalEvery: 0 }, (e) => {
      seen.push(e);
      if (e.type === 'step' && e.point.step === 2 && !paused) {
        paused = true;
        void studio.pause();
      }
      // Held: the step in flight when pausing has landed (however slow the machine); none may follow until resume.
      if (e.type === 'held') {
        const before = count();
        void new Promise((r) => setTimeout(r, 500)).then(async () => {
          stepsWhilePaused = count() - before;
          await studio.resume();
        });
      }
      if (e.type === 'step' && e.point.step === 5) void studio.stop();
    });
    expect(events.some((e) => e.type === 'paused')).toBe(true);
    expect(events.some((e) => e.type === 'resumed')).toBe(true);
    expect(stepsWhilePaused).toBe(0);
    expect(result.run.status).toBe('stopped');
    expect(result.run.final!.steps).toBeLessThan(200);
    expect(result.adapter).toBeDefined();
  }, 120_000);

  // Buffers that grow with the vocabulary are cut to fit (the head in chunks, the embedding in
  // shards); what cannot be cut is refused before training. Refusals that name an oversized buffer
  // under lowered limits: tests/hostile/gpu-limits.test.ts.
  it('refuses a run that cannot fit the GPU before training, with the change to make', async () => {
    if (!available) return;
    const before = (await studio.listRuns()).length;
    const err = await studio.startTraining({ ...run, microBatch: 1024, maxSeqLen: 4096 }, () => {}).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^this configuration cannot run on this GPU \(.+\); try a smaller micro-batch \(now 1024\) or shorter sequences \(now 4096\)/);
    expect((await studio.listRuns()).length).toBe(before); // nothing started
    const worse = await studio.estimate({ ...run, microBatch: 1024, maxSeqLen: 131072 }).catch((e: unknown) => e);
    expect((worse as Error).message).toMatch(/cannot run on this GPU.*smaller micro-batch/);
  }, 60_000);

  it('a GPU lost mid-run stops it with a message, keeps the curves, and the next run gets a new device', async () => {
    if (!available) return;
    const err = await train({ ...run, maxSteps: 100, evalEvery: 0 }, (e) => {
      if (e.type === 'step' && e.point.step === 2) void studio.loseDevice();
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceLostError);
    expect((err as Error).message).toMatch(/GPU was lost after step \d+.*curves up to there are saved/);
    const [lost] = await studio.listRuns();
    expect(lost.status).toBe('failed');
    expect((await studio.runPoints(lost.id)).length).toBeGreaterThanOrEqual(2);
    const again = await train(run);
    expect(again.result.run.status).toBe('completed');
  }, 120_000);
});
