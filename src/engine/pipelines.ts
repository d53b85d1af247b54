/**
 * Compute pipelines, built once and cached by (shader label, entry point, override constants,
 * layout key). Layouts are always explicit (never 'auto'), so a bind group built once against a
 * cached layout stays valid for every pipeline that shares that layout.
 *
 * Module creation runs inside a validation error scope and reads `getCompilationInfo()`, so a bad
 * shader throws ShaderCompileError with the compiler's line:col messages instead of an uncaptured
 * error later.
 */
import type { Gpu } from './device';
import { ShaderStage } from './flags';
import { ShaderCompileError, type ShaderMessage } from './errors';

/** How a shader binding is declared: uniform, read-only storage, or read_write storage. */
export type BindingKind = 'uniform' | 'read' | 'rw';

export interface LayoutSpec {
  /** Identifies the layout in the cache; `layoutSpec` derives it from the kinds. */
  key: string;
  entries: GPUBindGroupLayoutEntry[];
}

/** Layout of bindings 0..n-1 in group 0, visible to compute, in the order given. */
export function layoutSpec(kinds: BindingKind[]): LayoutSpec {
  const type = { uniform: 'uniform', read: 'read-only-storage', rw: 'storage' } as const;
  const letter = { uniform: 'u', read: 'r', rw: 'w' } as const;
  return {
    key: kinds.map((k) => letter[k]).join(''),
    entries: kinds.map((k, binding) => ({
      binding, visibility: ShaderStage.COMPUTE, buffer: { type: type[k] },
    })),
  };
}

export interface ComputePipelineSpec {
  /** Shader label, e.g. 'matmul'; one label = one WGSL source. */
  label: string;
  code: string;
  entryPoint: string;
  /** Values of WGSL `override` declarations (booleans as true/false). */
  constants?: Record<string, number | boolean>;
  layout: LayoutSpec;
}

export interface CachedPipeline {
  pipeline: GPUComputePipeline;
  bindGroupLayout: GPUBindGroupLayout;
  /** The cache key, also the pipeline's label. */
  key: string;
}

/** Pipelines a cache keeps at most (a run uses a few dozen); the least recently used go first. */
export const MAX_CACHED_PIPELINES = 256;

export class PipelineCache {
  private readonly modules = new Map<string, { code: string; module: Promise<GPUShaderModule> }>();
  private readonly layouts = new Map<string, { bgl: GPUBindGroupLayout; pl: GPUPipelineLayout }>();
  private readonly pipelines = new Map<string, Promise<CachedPipeline>>();

  /**
   * `maxPipelines` bounds the cache when it outlives runs (one cache per device, shared by every
   * run, evaluation and playground build): a long sweep over many shapes does not grow it without end.
   */
  constructor(readonly gpu: Gpu, readonly maxPipelines = MAX_CACHED_PIPELINES) {}

  get size(): number {
    return this.pipelines.size;
  }

  /** The compiled module of a shader; throws ShaderCompileError with the compiler's messages. */
  module(label: string, code: string): Promise<GPUShaderModule> {
    const hit = this.modules.get(label);
    if (hit) {
      if (hit.code !== code) throw new Error(`shader label '${label}' is already used by a different source`);
      return hit.module;
    }
    const module = compileModule(this.gpu.device, label, code);
    this.modules.set(label, { code, module });
    module.catch(() => this.modules.delete(label)); // let a fixed source retry
    return module;
  }

  bindGroupLayout(spec: LayoutSpec): GPUBindGroupLayout {
    return this.layoutPair(spec).bgl;
  }

  compute(spec: ComputePipelineSpec): Promise<CachedPipeline> {
    const consts = Object.entries(spec.constants ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
    const key = `${spec.label}/${spec.entryPoint}/${consts.map(([k, v]) => `${k}=${Number(v)}`).join(',')}/${spec.layout.key}`;
    let p = this.pipelines.get(key);
    if (p) {
      this.pipelines.delete(key); // most recently used last
    } else {
      p = this.build(spec, key, Object.fromEntries(consts.map(([k, v]) => [k, Number(v)])));
      const failed = p;
      p.catch(() => { if (this.pipelines.get(key) === failed) this.pipelines.delete(key); });
    }
    this.pipelines.set(key, p);
    // Dropping the oldest entry only forgets it: ops built from it keep their pipeline.
    for (const oldest of this.pipelines.keys()) {
      if (this.pipelines.size <= this.maxPipelines) break;
      this.pipelines.delete(oldest);
    }
    return p;
  }

  private layoutPair(spec: LayoutSpec) {
    let hit = this.layouts.get(spec.key);
    if (!hit) {
      const { device } = this.gpu;
      const bgl = device.createBindGroupLayout({ label: `layout:${spec.key}`, entries: spec.entries });
      const pl = device.createPipelineLayout({ label: `layout:${spec.key}`, bindGroupLayouts: [bgl] });
      hit = { bgl, pl };
      this.layouts.set(spec.key, hit);
    }
    return hit;
  }

  private async build(spec: ComputePipelineSpec, key: string, constants: Record<string, number>): Promise<CachedPipeline> {
    const module = await this.module(spec.label, spec.code);
    const { bgl, pl } = this.layoutPair(spec.layout);
    // The spec has the async variant reject (GPUPipelineError); Dawn may report a validation
    // error instead, so the call is also wrapped in a scope. Push, call and pop happen in the same
    // tick, so concurrent builds cannot mix up each other's scopes.
    const { device } = this.gpu;
    device.pushErrorScope('validation');
    const created = device.createComputePipelineAsync({
      label: key, layout: pl, compute: { module, entryPoint: spec.entryPoint, constants },
    });
    const scope = device.popErrorScope();
    const [result, scopeErr] = await Promise.all([
      created.then((pipeline) => ({ pipeline, failure: '' }), (e: Error) => ({ pipeline: null, failure: e.message })),
      scope,
    ]);
    if (!result.pipeline || scopeErr) {
      throw new ShaderCompileError(spec.label, [], `pipeline '${key}': ${result.failure || scopeErr?.message}`);
    }
    return { pipeline: result.pipeline, bindGroupLayout: bgl, key };
  }
}

async function compileModule(device: GPUDevice, label: string, code: string): Promise<GPUShaderModule> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label, code });
  const [info, scopeErr] = await Promise.all([module.getCompilationInfo(), device.popErrorScope()]);
  const messages: ShaderMessage[] = info.messages.map((m) => ({
    type: m.type, line: m.lineNum, col: m.linePos, message: m.message,
  }));
  if (scopeErr || messages.some((m) => m.type === 'error')) {
    throw new ShaderCompileError(label, messages, messages.length ? undefined : scopeErr?.message);
  }
  return module;
}
