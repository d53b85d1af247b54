/**
 * Shared setup of the GPU tests: one WebGPU device per test file through the `webgpu` package
 * (Dawn). Without a hardware GPU, Dawn needs a Vulkan driver: SwiftShader from Debian's chromium.
 * Tests skip (with the reason printed) only when no adapter can be obtained at all.
 */
import type { Category } from '../../src/core/memory-categories';
import { nodeGpu as createNodeGpu } from '../../src/engine/node-gpu';
import { acquireGpu, type AcquireOptions, type Gpu } from '../../src/engine/device';
import { createEngine, type Engine } from '../../src/engine/context';
import { readFloat32 } from '../../src/engine/readback';
import { uploadBuffer } from '../../src/engine/upload';

let gpuFactory: Promise<GPU | null> | null = null;

/** The `webgpu` package's GPU (see src/engine/node-gpu.ts); null, with the reason logged, if unusable. */
export function nodeGpu(): Promise<GPU | null> {
  gpuFactory ??= createNodeGpu().catch((e: Error) => {
    console.warn(`[gpu tests] the webgpu package could not start: ${e.message}`);
    return null;
  });
  return gpuFactory;
}

const cache = new Map<string, Promise<Gpu | null>>();

/** A device for this test file (one per distinct option set), or null with the reason logged. */
export function testGpu(opts: AcquireOptions = {}): Promise<Gpu | null> {
  const key = JSON.stringify(opts);
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const gpu = await nodeGpu();
      try {
        return await acquireGpu(gpu, opts);
      } catch (e) {
        console.warn(`[gpu tests] skipping: no WebGPU device (${(e as Error).message})`);
        return null;
      }
    })();
    cache.set(key, p);
  }
  return p;
}

export async function testEngine(opts: AcquireOptions = {}): Promise<Engine | null> {
  const gpu = await testGpu(opts);
  return gpu ? createEngine(gpu) : null;
}

export function upload(engine: Engine, data: Float32Array | Uint32Array, label: string, category: Category = 'activations') {
  return uploadBuffer(engine.pool, data, { category, label });
}

export function read(engine: Engine, buffer: GPUBuffer, count?: number): Promise<Float32Array> {
  return readFloat32(engine.gpu.device, buffer, count);
}

/** Encode ops into one pass and submit. */
export function run(engine: Engine, ...ops: { encode(pass: GPUComputePassEncoder): void }[]): void {
  const enc = engine.gpu.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  for (const op of ops) op.encode(pass);
  pass.end();
  engine.gpu.device.queue.submit([enc.finish()]);
}

/** Deterministic values in [-scale, scale). */
export function rand(n: number, seed: number, scale = 1): Float32Array {
  let s = (seed * 2654435761) >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = scale * (2 * (s / 2 ** 32) - 1);
  }
  return out;
}

/**
 * Compare with tolerance atol + rtol*|ref|; returns null when all match, otherwise a message with
 * the count and the first mismatches (index, got, want).
 */
export function mismatches(got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number, show = 8): string | null {
  if (got.length !== want.length) return `length ${got.length} != ${want.length}`;
  const bad: string[] = [];
  let count = 0;
  for (let i = 0; i < want.length; i++) {
    const ok = Math.abs(got[i] - want[i]) <= atol + rtol * Math.abs(want[i]);
    if (!ok || Number.isNaN(got[i])) {
      if (count++ < show) bad.push(`  [${i}] got ${got[i]} want ${want[i]} (diff ${got[i] - want[i]})`);
    }
  }
  return count ? `${count} of ${want.length} mismatches (atol ${atol}, rtol ${rtol}):\n${bad.join('\n')}` : null;
}
