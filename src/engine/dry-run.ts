/**
 * A recording stand-in for a GPUDevice: buffers, layouts, pipelines and bind groups are plain
 * objects, nothing runs. Building a run's graph against it executes exactly the allocation code a
 * real run executes, so the pool's ledger afterwards IS the memory plan: the estimate shown before
 * Train is computed by the same code that will allocate, for any model size, with no GPU.
 */
import { REQUESTED_LIMITS, wrapDevice, type Gpu, type GpuFeatures, type GpuLimits } from './device';

/** WebGPU's default limits, the floor every adapter offers. */
export const DEFAULT_LIMITS: GpuLimits = {
  maxBufferSize: 268435456,
  maxStorageBufferBindingSize: 134217728,
  maxUniformBufferBindingSize: 65536,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBuffersPerShaderStage: 8,
  maxUniformBuffersPerShaderStage: 12,
  maxBindGroups: 4,
  maxBindingsPerBindGroup: 1000,
  maxDynamicStorageBuffersPerPipelineLayout: 4,
  maxDynamicUniformBuffersPerPipelineLayout: 8,
  minStorageBufferOffsetAlignment: 256,
  minUniformBufferOffsetAlignment: 256,
};

function dryBuffer(d: GPUBufferDescriptor): GPUBuffer {
  let mapped = !!d.mappedAtCreation;
  let range: ArrayBuffer | null = null;
  return {
    label: d.label ?? '',
    size: d.size,
    usage: d.usage,
    get mapState() {
      return mapped ? 'mapped' : 'unmapped';
    },
    // Only small uploads (uniform blocks, RoPE tables) write through a mapping; memory is taken
    // only when they ask for the range.
    getMappedRange: () => (range ??= new ArrayBuffer(d.size)),
    unmap: () => {
      mapped = false;
      range = null;
    },
    destroy: () => {},
    mapAsync: async () => {},
  } as unknown as GPUBuffer;
}

const labelled = (d?: { label?: string }) => ({ label: d?.label ?? '' });

function dryDevice(limits: GpuLimits, features: GpuFeatures): GPUDevice {
  const featureSet = new Set<string>([
    ...(features.f16 ? ['shader-f16'] : []),
    ...(features.subgroups ? ['subgroups'] : []),
    ...(features.timestamps ? ['timestamp-query'] : []),
  ]);
  const device = {
    label: 'dry-run',
    limits,
    features: featureSet,
    lost: new Promise(() => {}),
    addEventListener: () => {},
    removeEventListener: () => {},
    pushErrorScope: () => {},
    popErrorScope: async () => null,
    createBuffer: dryBuffer,
    createBindGroupLayout: labelled,
    createPipelineLayout: labelled,
    createBindGroup: labelled,
    createShaderModule: (d: GPUShaderModuleDescriptor) => ({ ...labelled(d), getCompilationInfo: async () => ({ messages: [] }) }),
    createComputePipelineAsync: async (d: GPUComputePipelineDescriptor) => ({ ...labelled(d), getBindGroupLayout: () => ({}) }),
    createComputePipeline: (d: GPUComputePipelineDescriptor) => ({ ...labelled(d), getBindGroupLayout: () => ({}) }),
    createQuerySet: (d: GPUQuerySetDescriptor) => ({ ...labelled(d), destroy: () => {} }),
    createCommandEncoder: () => {
      throw new Error('dry-run device: nothing can be executed; it only plans allocations');
    },
    queue: { writeBuffer: () => {}, submit: () => {}, onSubmittedWorkDone: async () => {} },
    destroy: () => {},
  };
  return device as unknown as GPUDevice;
}

/**
 * A `Gpu` that records instead of running. Pass the real adapter's limits and features when known,
 * so the plan sees the same shape guards and code paths as the run will.
 */
export function dryRunGpu(limits: Partial<GpuLimits> = {}, features: Partial<GpuFeatures> = {}): Gpu {
  const full = { ...DEFAULT_LIMITS } as GpuLimits;
  for (const name of REQUESTED_LIMITS) if (limits[name] !== undefined) full[name] = limits[name]!;
  const f: GpuFeatures = { f16: false, subgroups: false, timestamps: false, ...features };
  return wrapDevice(dryDevice(full, f), { vendor: 'dry-run', architecture: 'dry-run', device: '', description: 'memory plan (nothing runs)' });
}
