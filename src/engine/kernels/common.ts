/**
 * What every kernel wrapper shares: buffer references, shape and limit guards, and the prepared
 * op (pipeline + bind group + uniform buffer, built once per run and encoded into a pass per step).
 */
import type { Engine } from '../context';
import { BufferUsage } from '../flags';

/** A storage buffer, or the part of one from `offset` bytes (a multiple of minStorageBufferOffsetAlignment). */
export type BufferRef = GPUBuffer | { buffer: GPUBuffer; offset?: number };

export function refBuffer(ref: BufferRef): GPUBuffer {
  return 'buffer' in ref ? ref.buffer : ref;
}

function refOffset(ref: BufferRef): number {
  return 'buffer' in ref ? ref.offset ?? 0 : 0;
}

/** The part of a reference that starts `bytes` further on. */
export function shiftRef(ref: BufferRef, bytes: number): BufferRef {
  return bytes === 0 ? ref : { buffer: refBuffer(ref), offset: refOffset(ref) + bytes };
}

/** One binding a kernel reads or writes: exactly `bytes` from the reference are bound. */
export interface BindingSpec {
  name: string;
  ref: BufferRef;
  bytes: number;
  /** e.g. '(M, K) = (3, 17)', for messages */
  shape: string;
}

/** Throws unless every size is a positive integer. */
export function checkDims(label: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${label}: ${k} must be a positive integer, got ${v}`);
  }
}

/** Resolve bindings, checking offset alignment, buffer sizes and maxStorageBufferBindingSize. */
export function resolveBindings(engine: Engine, label: string, specs: BindingSpec[]): GPUBufferBinding[] {
  const { limits } = engine.gpu;
  return specs.map(({ name, ref, bytes, shape }) => {
    const buffer = refBuffer(ref);
    const offset = refOffset(ref);
    const size = Math.ceil(bytes / 4) * 4;
    if (size > limits.maxStorageBufferBindingSize) {
      throw new RangeError(`${label}: ${name} ${shape} needs ${size} bytes, above maxStorageBufferBindingSize ` +
        `(${limits.maxStorageBufferBindingSize}); split the operation`);
    }
    if (offset % limits.minStorageBufferOffsetAlignment) {
      throw new RangeError(`${label}: ${name} offset ${offset} is not a multiple of ${limits.minStorageBufferOffsetAlignment}`);
    }
    if (offset + size > buffer.size) {
      throw new RangeError(`${label}: ${name} ${shape} needs ${size} bytes at offset ${offset}, ` +
        `but buffer '${buffer.label}' has ${buffer.size}`);
    }
    return { buffer, offset, size };
  });
}

/** The written binding must not share a buffer with any read one (WebGPU forbids it in one dispatch). */
export function checkNoAlias(label: string, out: GPUBufferBinding, inputs: GPUBufferBinding[]): void {
  if (inputs.some((b) => b.buffer === out.buffer)) {
    throw new RangeError(`${label}: the output buffer '${out.buffer.label}' is also an input`);
  }
}

/** Throws when a dispatch exceeds maxComputeWorkgroupsPerDimension (65535 by default). */
export function checkDispatch(engine: Engine, label: string, wg: readonly number[]): void {
  const max = engine.gpu.limits.maxComputeWorkgroupsPerDimension;
  wg.forEach((n, i) => {
    if (n > max) throw new RangeError(`${label}: ${n} workgroups along ${'xyz'[i]} exceed ${max}; the shape is too large for one dispatch`);
  });
}

export interface PreparedOp {
  readonly label: string;
  readonly workgroups: readonly [number, number, number];
  /** Record the dispatch into a compute pass (no allocation, no bind-group creation). */
  encode(pass: GPUComputePassEncoder): void;
  /** Replace the uniform block (same layout as at prepare time). */
  writeUniform(data: ArrayBuffer): void;
  /** Free the op's uniform buffer. */
  destroy(): void;
}

export interface OpParts {
  label: string;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  /** Contents of the uniform block, bound at binding 0. */
  uniform: ArrayBuffer;
  /** Bindings 1.. in order. */
  resources: GPUBufferBinding[];
  workgroups: [number, number, number];
}

export async function makeOp(engine: Engine, p: OpParts): Promise<PreparedOp> {
  const { device } = engine.gpu;
  checkDispatch(engine, p.label, p.workgroups);
  const ubuf = await engine.pool.alloc({
    size: p.uniform.byteLength, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
    category: 'workspace', label: `${p.label}:params`, mappedAtCreation: true,
  });
  new Uint8Array(ubuf.getMappedRange()).set(new Uint8Array(p.uniform));
  ubuf.unmap();
  const bindGroup = device.createBindGroup({
    label: p.label,
    layout: p.layout,
    entries: [{ binding: 0, resource: { buffer: ubuf } }, ...p.resources.map((resource, i) => ({ binding: i + 1, resource }))],
  });
  const [x, y, z] = p.workgroups;
  return {
    label: p.label,
    workgroups: p.workgroups,
    encode(pass) {
      pass.setPipeline(p.pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y, z);
    },
    writeUniform(data) {
      device.queue.writeBuffer(ubuf, 0, data);
    },
    destroy() {
      engine.pool.destroy(ubuf);
    },
  };
}

/** Build a uniform block of 32-bit fields: 'u' (u32) or 'f' (f32), padded to 16 bytes. */
export function uniformBlock(fields: [kind: 'u' | 'f', value: number][]): ArrayBuffer {
  const buf = new ArrayBuffer(Math.ceil(fields.length / 4) * 16);
  const dv = new DataView(buf);
  fields.forEach(([kind, v], i) => (kind === 'u' ? dv.setUint32(4 * i, v, true) : dv.setFloat32(4 * i, v, true)));
  return buf;
}

/** Invocations per workgroup of the flat kernels (the WGSL `WG` default). */
export const FLAT_WG = 256;

/**
 * A grid of `groups` workgroups that respects maxComputeWorkgroupsPerDimension: (groups, 1, 1) when
 * it fits, else (x, y, 1) with x * y >= groups. Shaders index workgroups as wid.y * nwg.x + wid.x and
 * guard the tail, so the few extra workgroups of a 2D grid do nothing.
 */
export function flatGrid(engine: Engine, groups: number): [number, number, number] {
  const max = engine.gpu.limits.maxComputeWorkgroupsPerDimension;
  if (groups <= max) return [Math.max(1, groups), 1, 1];
  const y = Math.ceil(groups / max);
  return [Math.ceil(groups / y), y, 1];
}
