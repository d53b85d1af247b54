/**
 * Acquire a WebGPU device with the adapter's real limits and the optional features the engine
 * uses, and route every asynchronous GPU fault (device lost, uncaptured errors) to subscribers as
 * typed errors. The engine takes the `GPU` (navigator.gpu, or the `webgpu` package in Node) from
 * outside and never touches the DOM.
 */
import {
  DeviceLostError, GpuUnavailableError, GpuValidationError, OutOfMemoryError, type EngineError,
} from './errors';

export type OptionalFeature = 'shader-f16' | 'subgroups' | 'timestamp-query';

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Features not to request even when present; tests use this to exercise the fallbacks. */
  disableFeatures?: OptionalFeature[];
  /**
   * 'adapter' (default): request the adapter's maxima. 'default': request nothing, so the device has
   * WebGPU's default limits (128 MiB per storage binding, 256 MiB per buffer), as many laptop and
   * mobile GPUs do: runs on a large adapter then prove the behaviour of small devices.
   */
  limits?: GpuLimitsChoice;
}

export type GpuLimitsChoice = 'adapter' | 'default';
export const GPU_LIMITS_CHOICES: readonly GpuLimitsChoice[] = ['adapter', 'default'];

/** The limits the engine requests at the adapter's maximum (the defaults are far lower, e.g. 256 MiB buffers). */
export const REQUESTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxUniformBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBuffersPerShaderStage',
  'maxBindGroups',
  'maxBindingsPerBindGroup',
  'maxDynamicStorageBuffersPerPipelineLayout',
  'maxDynamicUniformBuffersPerPipelineLayout',
  'minStorageBufferOffsetAlignment',
  'minUniformBufferOffsetAlignment',
] as const;
export type GpuLimitName = (typeof REQUESTED_LIMITS)[number];
export type GpuLimits = Record<GpuLimitName, number>;

export interface GpuFeatures {
  /** `shader-f16`: WGSL may `enable f16;`. */
  f16: boolean;
  subgroups: boolean;
  /** `timestamp-query`: GPU-side pass timings. */
  timestamps: boolean;
}

export interface GpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export interface Gpu {
  device: GPUDevice;
  adapterInfo: GpuAdapterInfo;
  /** The device's limits (a plain snapshot; equal to the adapter's for those in REQUESTED_LIMITS). */
  limits: GpuLimits;
  features: GpuFeatures;
  /** Subscribe to asynchronous faults; returns the unsubscribe function. */
  onFault(cb: (e: EngineError) => void): () => void;
}

/** Map a `GPUError` (from an error scope or an uncaptured-error event) to an engine error. */
export function toEngineError(err: GPUError, context = ''): EngineError {
  const msg = context ? `${context}: ${err.message}` : err.message;
  switch (err.constructor?.name) {
    case 'GPUOutOfMemoryError': return new OutOfMemoryError(0, 'unknown', context, -1, err.message);
    case 'GPUInternalError': return new GpuValidationError(msg, 'internal');
    default: return new GpuValidationError(msg, 'validation');
  }
}

export async function acquireGpu(gpu: GPU | undefined | null, opts: AcquireOptions = {}): Promise<Gpu> {
  if (!gpu) throw new GpuUnavailableError('WebGPU is not available in this environment (no navigator.gpu)');
  const adapter = await gpu.requestAdapter(opts.powerPreference ? { powerPreference: opts.powerPreference } : undefined);
  if (!adapter) throw new GpuUnavailableError('no WebGPU adapter is available (requestAdapter returned null)');

  const disabled = new Set<OptionalFeature>(opts.disableFeatures ?? []);
  const requiredFeatures: GPUFeatureName[] = [];
  for (const f of ['shader-f16', 'subgroups', 'timestamp-query'] as const) {
    if (adapter.features.has(f) && !disabled.has(f)) requiredFeatures.push(f);
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of opts.limits === 'default' ? [] : REQUESTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }

  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: 'finetune-studio' });
  } catch (e) {
    throw new GpuUnavailableError(`the adapter refused the device request: ${(e as Error).message}`);
  }
  return wrapDevice(device, readAdapterInfo(adapter));
}

/** Build the engine's `Gpu` around a device created elsewhere. */
export function wrapDevice(device: GPUDevice, adapterInfo: GpuAdapterInfo = emptyInfo()): Gpu {
  const limits = {} as GpuLimits;
  for (const name of REQUESTED_LIMITS) {
    limits[name] = Number((device.limits as unknown as Record<string, number | undefined>)[name] ?? 0);
  }
  const features: GpuFeatures = {
    f16: device.features.has('shader-f16'),
    subgroups: device.features.has('subgroups'),
    timestamps: device.features.has('timestamp-query'),
  };

  // One handler for every asynchronous fault; subscribers get typed errors.
  const subscribers = new Set<(e: EngineError) => void>();
  const emit = (e: EngineError) => {
    // Unheard faults are still shown, except a device we destroyed on purpose.
    if (subscribers.size === 0 && !(e instanceof DeviceLostError && e.reason === 'destroyed')) console.error(e);
    for (const cb of subscribers) cb(e);
  };
  device.lost.then((info) => emit(new DeviceLostError(info.reason ?? 'unknown', info.message)));
  device.addEventListener('uncapturederror', (ev) => emit(toEngineError((ev as GPUUncapturedErrorEvent).error)));

  return {
    device, adapterInfo, limits, features,
    onFault(cb) {
      subscribers.add(cb);
      return () => { subscribers.delete(cb); };
    },
  };
}

/**
 * A software adapter that runs shaders on the CPU (SwiftShader, llvmpipe / lavapipe, WARP). Its
 * invocations are fibers and a barrier switches every one of them, so row kernels there use a few
 * invocations per row rather than a GPU's hundreds.
 */
export function isCpuAdapter(info: GpuAdapterInfo): boolean {
  return /swiftshader|llvmpipe|lavapipe|basic render driver/i.test(`${info.vendor} ${info.architecture} ${info.device} ${info.description}`);
}

function readAdapterInfo(adapter: GPUAdapter): GpuAdapterInfo {
  const info = (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
  if (!info) return emptyInfo();
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
  };
}

function emptyInfo(): GpuAdapterInfo {
  return { vendor: '', architecture: '', device: '', description: '' };
}
