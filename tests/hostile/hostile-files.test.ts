/**
 * The hostile-file corpus (corpus.ts) against the studio's loaders (createStudio: loadModel with
 * picked files, loadDataset, and startTraining for what only reading the weights reveals) and
 * against the CLI (`inspect`, `inspect --check-weights`, `data`: exit code 2 and the message).
 * Each case has its own message; after each, the studio still loads the good model and dataset.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { memoryKv } from '../../src/io/stores/kv';
import { createRunStore } from '../../src/io/stores/runs';
import type { DatasetOptions, StudioApi } from '../../src/worker/api';
import { createStudio } from '../../src/worker/studio';
import { nodeGpu, testGpu } from '../gpu/gpu';
import { DATA_CASES, GOOD_DATA, MODEL_CASES, modelFiles, PADDED_VOCAB, type Files } from './corpus';

const dataOptions: DatasetOptions = { template: 'model', maskPrompt: true, maxSeqLen: 48, validationFraction: 0, seed: 1 };
const run = { rank: 2, alpha: 4, targets: ['query'], maxSteps: 1, microBatch: 2, maxSeqLen: 48, evalEvery: 0, logEvery: 1, learningRate: 1e-3, warmupSteps: 0, schedule: 'constant' };

const asFiles = (files: Files) => Object.entries(files).map(([name, body]) => new File([body as BlobPart], name));
const scratch = mkdtempSync(join(tmpdir(), 'hostile-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function writeDir(name: string, files: Files): string {
  const dir = join(scratch, name.replace(/[^\w.-]+/g, '_'));
  mkdirSync(dir, { recursive: true });
  for (const [f, body] of Object.entries(files)) writeFileSync(join(dir, f), body);
  return dir;
}

/** The CLI as a person runs it (node with tsx, as `npm run cli` does, minus npm's start-up). */
function cli(...args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', '--import', './scripts/raw-import.mjs', 'src/cli/main.ts', ...args], { timeout: 120_000, maxBuffer: 2 ** 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: stdout + stderr });
    });
  });
}

/** Run jobs a few at a time (each CLI start costs a second or two of CPU). */
async function pool<T, R>(items: T[], n: number, job: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await job(items[i]);
    }
  }));
  return out;
}

let studio: StudioApi;
let gpu = false;
const goodFiles = modelFiles();

/** The studio is still usable: the good model and dataset load. */
async function stillWorks(): Promise<void> {
  const info = await studio.loadModel({ kind: 'files', files: asFiles(goodFiles) });
  expect(info.config.vocabSize).toBe(259);
  expect((await studio.loadDataset(new File([GOOD_DATA()], 'good.jsonl'), dataOptions)).examples).toBe(12);
}

beforeAll(async () => {
  gpu = (await testGpu()) !== null;
  studio = createStudio({ gpu: () => nodeGpu().then((g) => g ?? undefined), runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()) });
});

describe('hostile model files: the studio', () => {
  it('the corpus has the cases the issue names', () => {
    expect(MODEL_CASES.length + DATA_CASES.length).toBeGreaterThanOrEqual(25);
  });

  it.each(MODEL_CASES)('$name', async ({ files, message, error, stage }) => {
    let err: unknown;
    if (stage === 'train') {
      if (!gpu) {
        console.warn('[hostile] no WebGPU device: the weights are not read for training here (the CLI part still reads them)');
        return;
      }
      await studio.loadModel({ kind: 'files', files: asFiles(files) }); // headers are fine; the values are not
      await studio.loadDataset(new File([GOOD_DATA()], 'good.jsonl'), dataOptions);
      err = await studio.startTraining(run, () => {}).then(() => null, (e: unknown) => e);
    } else {
      err = await studio.loadModel({ kind: 'files', files: asFiles(files) }).then(() => null, (e: unknown) => e);
    }
    expect(err, 'expected an error').toBeInstanceOf(Error);
    expect((err as Error).name).toBe(error);
    expect((err as Error).message).toMatch(message);
    await stillWorks();
  }, 60_000);

  it('a padded embedding table (fewer token ids than vocab_size) is normal', async () => {
    expect((await studio.loadModel({ kind: 'files', files: asFiles(PADDED_VOCAB()) })).config.vocabSize).toBe(320);
    await stillWorks();
  });
});

describe('hostile datasets: the studio', () => {
  beforeAll(async () => {
    await studio.loadModel({ kind: 'files', files: asFiles(goodFiles) });
  });

  it.each(DATA_CASES)('$name', async ({ file, data, message }) => {
    const err = await studio.loadDataset(new File([data() as BlobPart], file), dataOptions).then(() => null, (e: unknown) => e);
    expect(err, 'expected an error').toBeInstanceOf(Error);
    expect((err as Error).name).toBe('DatasetError');
    expect((err as Error).message).toMatch(message);
    await stillWorks();
  });
});

describe('hostile files: the CLI', () => {
  it('inspect and data exit 2 with each specific message', async () => {
    const goodDir = writeDir('good-model', goodFiles);
    const jobs = [
      ...MODEL_CASES.map((c) => ({
        name: c.name, message: c.cli ?? c.message, error: c.error,
        args: ['inspect', '--model', writeDir(`model-${c.name}`, c.files), ...(c.stage === 'train' ? ['--check-weights'] : [])],
      })),
      ...DATA_CASES.map((c) => {
        const dir = join(scratch, 'data', c.name.replace(/[^\w.-]+/g, '_'));
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, c.file), c.data());
        return { name: c.name, message: c.message, error: 'DatasetError', args: ['data', '--data', join(dir, c.file), '--model', goodDir] };
      }),
    ];
    const results = await pool(jobs, 3, (j) => cli(...j.args));
    const wrong: string[] = [];
    results.forEach((r, i) => {
      const j = jobs[i];
      if (r.code !== 2 || !r.out.includes(`${j.error}: `) || !j.message.test(r.out)) wrong.push(`${j.name}: exit ${r.code}, expected ${j.message}\n${r.out.slice(0, 600)}`);
    });
    expect(wrong).toEqual([]);
    // The good model and dataset pass.
    const ok = await cli('inspect', '--model', goodDir, '--check-weights');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).sizes.vocab_size).toBe(259);
    writeFileSync(join(scratch, 'good.jsonl'), GOOD_DATA());
    expect((await cli('data', '--data', join(scratch, 'good.jsonl'), '--model', goodDir)).code).toBe(0);
  }, 180_000);
});
