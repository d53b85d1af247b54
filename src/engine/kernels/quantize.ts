/**
 * The GPU quantizer (shaders/quantize.wgsl), as src/reference/ops/quantize.ts: a chunk of a
 * checkpoint tensor, its file bytes in a GPU buffer, into a base weight's storage format (f32, f16,
 * bf16, int8, nf4), bit for bit what the CPU packer writes. Loading a model streams chunks of the
 * file through one staging buffer into the weights' own buffers, so neither the page nor the worker
 * ever converts or quantizes a tensor in JavaScript.
 *
 * NF4 blocks whose absmax is subnormal or above 2^126 (no checkpoint has them; a hostile file could)
 * are counted in `flags[slot]` instead of trusted: the caller packs that tensor on the CPU instead.
 * The uniform block is one small buffer of the quantizer, rewritten before each chunk (chunks are
 * submitted one at a time, in queue order); like readback's staging it is load-time space, off the
 * ledger.
 */
import shader from '../../../shaders/quantize.wgsl?raw';
import type { Engine } from '../context';
import { BufferUsage } from '../flags';
import { layoutSpec, type LayoutSpec } from '../pipelines';
import { ELEMENTS_PER_WORD, type WeightFormat } from '../../reference/quant/packed';
import { RAW_BYTES, type RawFloat } from '../../reference/ops/quantize';
import { NF4_CODEBOOK, nf4Code } from '../../reference/quant/nf4';
import { checkDims, flatGrid, resolveBindings, uniformBlock, type BindingSpec, type BufferRef } from './common';

const WG = 64;
const SRC_CODE: Record<RawFloat, number> = { f32: 0, f16: 1, bf16: 2 };
const DST_CODE = { f32: 0, f16: 1, bf16: 2 } as const;

const LAYOUTS: Record<'convert' | 'nf4' | 'int8', LayoutSpec> = {
  convert: layoutSpec(['uniform', 'rw', 'read']),
  nf4: layoutSpec(['uniform', 'rw', 'rw', 'rw', 'read']),
  int8: layoutSpec(['uniform', 'rw', 'rw', 'read']),
};

// f32 values in the order of their values, as unsigned keys (-0 just below +0), and back.
const f32v = new Float32Array(1);
const u32v = new Uint32Array(f32v.buffer);
function orderKey(x: number): number {
  f32v[0] = x;
  const u = u32v[0];
  return (u & 0x80000000 ? ~u : u | 0x80000000) >>> 0;
}
function fromKey(k: number): number {
  u32v[0] = (k & 0x80000000 ? k & 0x7fffffff : ~k) >>> 0;
  return f32v[0];
}

let thresholds: number[] | null = null;

/**
 * T_j for j = 0..14: the smallest f32 s above NF4_CODEBOOK[j] whose reference code (nf4Code, the
 * rounded distances with the lower index on a tie) is j + 1. Between two neighbouring values both
 * rounded distances are monotone in s, so the code is the number of T_j <= s, exactly.
 */
export function nf4Thresholds(): number[] {
  if (thresholds) return thresholds;
  thresholds = [];
  for (let j = 0; j < 15; j++) {
    let lo = orderKey(NF4_CODEBOOK[j]); // code j
    let hi = orderKey(NF4_CODEBOOK[j + 1]); // code j + 1
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (nf4Code(fromKey(mid)) > j) hi = mid;
      else lo = mid;
    }
    thresholds.push(fromKey(hi));
  }
  return thresholds;
}

/** A chunk's elements start on a multiple of this in their tensor (every output slice then starts on 256 bytes). */
export const QUANTIZE_CHUNK_ALIGN = 4096;

export interface QuantizeChunk {
  /** The chunk's elements as the file stores them. */
  raw: RawFloat;
  format: WeightFormat;
  /** Elements in the chunk. */
  n: number;
  /** (ceil(n * bytes per element / 4)) u32: the file's bytes, little-endian */
  src: BufferRef;
  /** (ceil(n / ELEMENTS_PER_WORD[format])) u32: the chunk's part of the weight's words */
  words: BufferRef;
  /** int8, nf4: (ceil(n / 64)) f32, the chunk's part of the absmax */
  absmax?: BufferRef;
  /** nf4: (> slot) u32 counters of blocks the GPU did not quantize exactly (see above) */
  flags?: BufferRef;
  slot?: number;
  label?: string;
}

export class GpuQuantizer {
  private readonly uniform: GPUBuffer;

  private constructor(private readonly engine: Engine) {
    this.uniform = engine.gpu.device.createBuffer({ label: 'quantize:params', size: 16, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
  }

  static create(engine: Engine): GpuQuantizer {
    return new GpuQuantizer(engine);
  }

  /** Encode and submit one chunk (after every queue operation before it, e.g. the write of its src). */
  async submit(c: QuantizeChunk): Promise<void> {
    const label = c.label ?? `quantize ${c.raw} -> ${c.format} (${c.n})`;
    checkDims(label, { n: c.n });
    const kind = c.format === 'nf4' ? 'nf4' : c.format === 'int8' ? 'int8' : 'convert';
    const words = Math.ceil(c.n / ELEMENTS_PER_WORD[c.format]);
    const blocks = Math.ceil(c.n / 64);
    const specs: BindingSpec[] = [{ name: 'words', ref: c.words, bytes: 4 * words, shape: `(${words}) u32` }];
    if (kind !== 'convert') {
      if (!c.absmax) throw new RangeError(`${label}: ${c.format} needs an absmax binding`);
      specs.push({ name: 'absmax', ref: c.absmax, bytes: 4 * blocks, shape: `(${blocks}) f32` });
    }
    if (kind === 'nf4') {
      if (!c.flags || c.slot === undefined) throw new RangeError(`${label}: nf4 needs a flags binding and a slot`);
      specs.push({ name: 'flags', ref: c.flags, bytes: 4 * (c.slot + 1), shape: `(${c.slot + 1}) u32` });
    }
    const srcBytes = c.n * RAW_BYTES[c.raw];
    specs.push({ name: 'src', ref: c.src, bytes: srcBytes, shape: `(${c.n}) ${c.raw}` });
    const resources = resolveBindings(this.engine, label, specs);
    const constants: Record<string, number> = { WG, SRC: SRC_CODE[c.raw] };
    if (kind === 'convert') constants.DST = DST_CODE[c.format as 'f32' | 'f16' | 'bf16'];
    if (kind === 'nf4') nf4Thresholds().forEach((t, j) => (constants[`T${j}`] = t));
    const { pipeline, bindGroupLayout } = await this.engine.pipelines.compute({
      label: 'quantize', code: shader, entryPoint: kind === 'convert' ? 'convert_weight' : `quantize_${kind}`, layout: LAYOUTS[kind], constants,
    });
    const { device } = this.engine.gpu;
    const bindGroup = device.createBindGroup({
      label, layout: bindGroupLayout,
      entries: [{ binding: 0, resource: { buffer: this.uniform } }, ...resources.map((resource, i) => ({ binding: i + 1, resource }))],
    });
    device.queue.writeBuffer(this.uniform, 0, uniformBlock([['u', c.n], ['u', c.slot ?? 0]]));
    const invocations = kind === 'convert' ? words : blocks;
    const [x, y, z] = flatGrid(this.engine, Math.ceil(invocations / WG));
    const enc = device.createCommandEncoder({ label });
    const pass = enc.beginComputePass({ label });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    device.queue.submit([enc.finish()]);
  }

  destroy(): void {
    this.uniform.destroy();
  }
}
