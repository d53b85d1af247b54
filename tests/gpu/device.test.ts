import { describe, expect, it } from 'vitest';
import { acquireGpu } from '../../src/engine/device';
import { DeviceLostError, GpuUnavailableError, GpuValidationError, ShaderCompileError, engineErrorFromPlain, type EngineError } from '../../src/engine/errors';
import { PipelineCache, layoutSpec } from '../../src/engine/pipelines';
import { nodeGpu, testGpu } from './gpu';

const gpu = await testGpu();

const GOOD = `
@group(0) @binding(0) var<storage, read_write> o: array<f32>;
override SCALE: f32 = 1.0;
@compute @workgroup_size(1) fn main() { o[0] = 2.0 * SCALE; }
`;
const BROKEN = `@group(0) @binding(0) var<storage, read_write> o: array<f32>;

fn helper() -> f32 {
  let x: i32 = 1.5;
  return f32(x);
}
@compute @workgroup_size(1) fn main() { o[0] = helper(); }
`;

describe('acquireGpu without WebGPU', () => {
  it('throws GpuUnavailableError', async () => {
    await expect(acquireGpu(undefined)).rejects.toBeInstanceOf(GpuUnavailableError);
    const fake = { requestAdapter: async () => null } as unknown as GPU;
    await expect(acquireGpu(fake)).rejects.toThrow(/no WebGPU adapter/);
  });
});

describe.skipIf(!gpu)('device, pipelines and fault routing', () => {
  it('reports features; disableFeatures turns them off', async () => {
    expect(gpu!.features.f16).toBe(false); // SwiftShader has no shader-f16
    expect(typeof gpu!.features.subgroups).toBe('boolean');
    const plain = await acquireGpu(await nodeGpu(), { disableFeatures: ['subgroups', 'timestamp-query', 'shader-f16'] });
    expect(plain.features).toEqual({ f16: false, subgroups: false, timestamps: false });
    expect(plain.device.features.has('subgroups')).toBe(false);
    plain.device.destroy();
  });

  it('a broken shader throws ShaderCompileError with the line number', async () => {
    const cache = new PipelineCache(gpu!);
    const err = await cache.compute({ label: 'broken', code: BROKEN, entryPoint: 'main', layout: layoutSpec(['rw']) }).catch((e) => e);
    expect(err).toBeInstanceOf(ShaderCompileError);
    expect(err.name).toBe('ShaderCompileError');
    expect(err.label).toBe('broken');
    expect(err.messages[0]).toMatchObject({ type: 'error', line: 4 });
    expect(err.message).toMatch(/broken:4:\d+: error: /);
    // survives a structured clone (the worker boundary) as the same class
    const back = engineErrorFromPlain(structuredClone({ ...err, name: err.name, message: err.message }));
    expect(back).toBeInstanceOf(ShaderCompileError);
    expect(back!.message).toBe(err.message);
  });

  it('caches pipelines by label, entry point, constants and layout', async () => {
    const cache = new PipelineCache(gpu!);
    const spec = { label: 'good', code: GOOD, entryPoint: 'main', layout: layoutSpec(['rw']) };
    const p1 = await cache.compute({ ...spec, constants: { SCALE: 2 } });
    const p2 = await cache.compute({ ...spec, constants: { SCALE: 2 } });
    const p3 = await cache.compute({ ...spec, constants: { SCALE: 3 } });
    expect(p1).toBe(p2);
    expect(p3.pipeline).not.toBe(p1.pipeline);
    expect(p3.bindGroupLayout).toBe(p1.bindGroupLayout); // shared explicit layout
    expect(cache.size).toBe(2);
    // a layout that does not match the shader is reported, not silently accepted
    await expect(cache.compute({ ...spec, layout: layoutSpec(['read']) })).rejects.toBeInstanceOf(ShaderCompileError);
  });

  it('routes uncaptured errors and device loss to subscribers as typed errors', async () => {
    const own = await acquireGpu(await nodeGpu());
    const seen: EngineError[] = [];
    const off = own.onFault((e) => seen.push(e));
    own.device.createBuffer({ size: 4, usage: 0 }); // invalid usage: uncaptured validation error
    await own.device.queue.onSubmittedWorkDone();
    await new Promise((r) => setTimeout(r, 50));
    expect(seen.some((e) => e instanceof GpuValidationError)).toBe(true);
    own.device.destroy();
    await own.device.lost;
    await new Promise((r) => setTimeout(r, 0));
    const lost = seen.find((e) => e instanceof DeviceLostError) as DeviceLostError | undefined;
    expect(lost?.reason).toBe('destroyed');
    off();
  });
});
