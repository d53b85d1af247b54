/**
 * Allocations the GPU refuses, through the worker API on a tiny model:
 * - a device whose buffer limits are lowered (the real Dawn device behind a proxy that reports
 *   small limits): estimate() reports the buffer, its size, the limit and the concrete changes that
 *   fit; startTraining throws before any run is recorded;
 * - a device that reports out-of-memory from its error scope for one big buffer at run time (a
 *   real device cannot be made to run out here): the run fails with the sizes and what to change.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { OutOfMemoryError } from '../../src/engine/errors';
import { createAdapterStore } from '../../src/io/stores/adapters';
import { memoryKv } from '../../src/io/stores/kv';
import { createRunStore } from '../../src/io/stores/runs';
import type { DatasetOptions, StudioApi } from '../../src/worker/api';
import { createStudio } from '../../src/worker/studio';
import { nodeGpu } from '../gpu/gpu';
import { alpacaFile, tinyModelFiles } from '../studio/tiny-model';

const KIB = 1024;
const dataOptions: DatasetOptions = { template: 'model', maskPrompt: true, maxSeqLen: 64, validationFraction: 0, seed: 1 };
const run = { rank: 4, alpha: 8, targets: ['query', 'value'], maxSteps: 2, microBatch: 8, maxSeqLen: 64, evalEvery: 0, logEvery: 1, learningRate: 1e-3, warmupSteps: 0, schedule: 'constant' };

/** Forward every call to the real object (bound to it), overriding some members. */
function proxied<T extends object>(target: T, over: Record<string, unknown>): T {
  return new Proxy(target, {
    get(t, p) {
      if (typeof p === 'string' && p in over) return over[p];
      const v = Reflect.get(t, p, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** A GPU whose devices report smaller buffer limits and/or refuse one allocation as out of memory. */
function fakeGpu(real: GPU, opts: { maxBuffer?: number; refuseLabel?: RegExp }): GPU {
  return proxied(real, {
    requestAdapter: async (o?: GPURequestAdapterOptions) => {
      const adapter = (await real.requestAdapter(o))!;
      return proxied(adapter, {
        requestDevice: async (d?: GPUDeviceDescriptor) => {
          const device = await adapter.requestDevice(d);
          const limits = opts.maxBuffer ? proxied(device.limits, { maxBufferSize: opts.maxBuffer, maxStorageBufferBindingSize: opts.maxBuffer }) : device.limits;
          let refuseNext = false;
          let refused = 0;
          return proxied(device, {
            limits,
            createBuffer: (desc: GPUBufferDescriptor) => {
              if (opts.refuseLabel?.test(desc.label ?? '') && refused === 0) { refuseNext = true; refused++; }
              return device.createBuffer(desc);
            },
            popErrorScope: async () => {
              const real = await device.popErrorScope();
              if (!refuseNext) return real;
              refuseNext = false; // the first pop after createBuffer is the out-of-memory scope (see pool.ts)
              return { message: 'Not enough memory left (simulated)' } as GPUError;
            },
          });
        },
      });
    },
  });
}

let real: GPU | null = null;
async function studioOn(gpu: GPU): Promise<StudioApi> {
  const studio = createStudio({ gpu: () => gpu, runs: createRunStore(memoryKv()), adapters: createAdapterStore(memoryKv()) });
  await studio.loadModel({ kind: 'files', files: tinyModelFiles() });
  await studio.loadDataset(alpacaFile(16), dataOptions);
  return studio;
}

beforeAll(async () => {
  real = await nodeGpu();
});

describe('allocations the GPU refuses', () => {
  it('a buffer over the lowered limit: estimate names it and what fits; training refuses before it starts', async () => {
    if (!real) return;
    const studio = await studioOn(fakeGpu(real, { maxBuffer: 64 * KIB }));
    expect((await studio.gpuInfo()).maxBufferSize).toBe(64 * KIB);
    const est = await studio.estimate(run);
    expect(est.problems).toHaveLength(1);
    const p = est.problems[0];
    expect(p).toMatch(/^buffer "[^"]+" \((activations|workspace|weights|lora|grads|optimizer)\) needs [\d.]+ KiB, above the 64\.0 KiB this GPU allows in one buffer \((maxBufferSize|maxStorageBufferBindingSize)\)/);
    expect(p).toMatch(/Any one of these fits: .*micro-batch [1-4] \(now 8\): largest buffer [\d.]+ KiB, [\d.]+ [KM]iB in all/);

    const events: string[] = [];
    const err = await studio.startTraining(run, (e) => events.push(e.type)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect((err as OutOfMemoryError).limitBytes).toBe(64 * KIB);
    expect((err as Error).message).toMatch(/^this configuration cannot run on this GPU: buffer "[^"]+" \(\w+\) needs .*Any one of these fits: .*micro-batch/);
    expect(events).toEqual([]); // nothing started
    expect(await studio.listRuns()).toEqual([]);

    // The change it names does fit.
    const m = /micro-batch (\d+) \(now 8\)/.exec(p)!;
    expect((await studio.estimate({ ...run, microBatch: Number(m[1]) })).problems).toEqual([]);
  }, 120_000);

  it('an allocation the device refuses at run time names the sizes and the changes that help', async () => {
    if (!real) return;
    const studio = await studioOn(fakeGpu(real, { refuseLabel: /:logits/ }));
    expect((await studio.estimate(run)).problems).toEqual([]);
    const err = await studio.startTraining(run, () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutOfMemoryError);
    expect((err as OutOfMemoryError).limitBytes).toBe(-1);
    expect((err as Error).message).toMatch(/^the GPU ran out of memory allocating [\d.]+ KiB for "logits[^"]*" \(workspace\); the run needs [\d.]+ MiB of GPU memory in all \(largest buffer "[^"]+" [\d.]+ KiB\)/);
    expect((err as Error).message).toMatch(/each of these halves it: .*micro-batch \d \(now 8\): largest buffer [\d.]+ KiB, [\d.]+ [KM]iB in all/);
    const [failed] = await studio.listRuns();
    expect(failed.status).toBe('failed');
    expect(failed.error?.message).toBe((err as Error).message); // Runs shows the same explanation
    // The studio is still usable: a run on a device that does not refuse completes.
    const ok = await studioOn(real);
    expect((await ok.startTraining(run, () => {})).run.status).toBe('completed');
  }, 120_000);
});
