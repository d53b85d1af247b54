/**
 * Base weights streamed from the checkpoint into their GPU buffers in bounded chunks: each chunk of
 * a tensor is read as the file stores it (`TensorLoader.raw`), written into one reused staging
 * buffer, and converted or quantized there by the GPU quantizer (src/engine/kernels/quantize.ts)
 * straight into the weight's own buffers. Host memory holds two chunks of raw bytes in JavaScript
 * (the one being written and the next one being read), at most two more in the queue's copies
 * (see throttle), and no f32 copy of anything: not of the file, not of a tensor. A 16-bit tensor
 * kept 16-bit (a bf16 embedding) skips the kernel.
 *
 * The CPU packer stays the reference and the fallback: a dtype the kernel does not read (F64, F8)
 * is decoded and packed on the CPU chunk by chunk, and so is a tensor with an NF4 block the GPU
 * flags as outside its exact range (see quantize.ts), redone in `finish`. NF4's double quantization
 * needs the mean of every absmax of the tensor: those (1/16 of the tensor's f32 size) are read back
 * once per tensor and quantized again on the CPU, as bitsandbytes does.
 */
import type { Engine } from '../../engine/context';
import { BufferUsage } from '../../engine/flags';
import { refBuffer, type BufferRef } from '../../engine/kernels/common';
import { GpuQuantizer, QUANTIZE_CHUNK_ALIGN } from '../../engine/kernels/quantize';
import { readBuffers } from '../../engine/readback';
import type { Dtype } from '../../io/safetensors/dtypes';
import { decodeToF32 } from '../../io/safetensors/decode';
import type { RawTensor, TensorLoader } from '../../io/model-source/types';
import type { RawFloat } from '../../reference/ops/quantize';
import { ELEMENTS_PER_WORD, packDoubleQuant, packWeight, type WeightFormat } from '../../reference/quant/packed';

/** Where a tensor's elements go: a weight's buffers (a GpuWeight, or an embedding shard's table). */
export interface WeightTarget {
  format: WeightFormat;
  /** (ceil(numel / ELEMENTS_PER_WORD[format])) u32 */
  words: BufferRef;
  /** int8, nf4 without double quantization: (ceil(numel / 64)) f32 */
  absmax?: GPUBuffer;
  /** nf4 with double quantization: (ceil(numel / 256)) u32 of u8 indices, and (257 + ceil(numel / 16384)) f32 */
  qabsmax?: GPUBuffer;
  dq?: GPUBuffer;
}

export interface WeightStreamOptions {
  /** Elements per chunk, a multiple of 4096 (default 2^21: 4 MiB of bf16, 8 MiB of f32). */
  chunkElements?: number;
}

export const DEFAULT_CHUNK_ELEMENTS = 2 ** 21;

const RAW_OF: Partial<Record<Dtype, RawFloat>> = { F32: 'f32', F16: 'f16', BF16: 'bf16' };
/** The file's storage is the format's: the bytes go into the buffer as they are. */
const SAME: Partial<Record<Dtype, WeightFormat>> = { F32: 'f32', F16: 'f16', BF16: 'bf16' };
/** Tensors flagged for the CPU are collected per flags buffer of this many slots. */
const FLAG_SLOTS = 1024;

interface Job {
  target: WeightTarget;
  name: string;
  start: number;
  numel: number;
}

export class WeightStream {
  private readonly chunk: number;
  private readonly quantizer: GpuQuantizer;
  private staging: GPUBuffer | null = null;
  private flags: GPUBuffer | null = null;
  /** NF4 tensors quantized on the GPU since the flags were last read, by slot. */
  private slots: Job[] = [];
  /** Bytes written to the queue since the device was last waited for. */
  private queued = 0;

  constructor(private readonly engine: Engine, private readonly readRaw: NonNullable<TensorLoader['raw']>, opts: WeightStreamOptions = {}) {
    this.chunk = opts.chunkElements ?? DEFAULT_CHUNK_ELEMENTS;
    if (!(Number.isSafeInteger(this.chunk) && this.chunk > 0 && this.chunk % QUANTIZE_CHUNK_ALIGN === 0)) {
      throw new RangeError(`weight stream: chunkElements must be a positive multiple of ${QUANTIZE_CHUNK_ALIGN}, got ${this.chunk}`);
    }
    this.quantizer = GpuQuantizer.create(engine);
  }

  /** Elements [start, start + numel) of tensor `name` into `target`, converted or quantized on the GPU. */
  async write(target: WeightTarget, name: string, start: number, numel: number): Promise<void> {
    await this.stream({ target, name, start, numel }, false);
  }

  /** Redo the tensors the GPU flagged on the CPU, wait for the device, and free the staging space. */
  async finish(): Promise<void> {
    await this.checkFlags();
    await this.engine.gpu.device.queue.onSubmittedWorkDone();
    this.staging?.destroy();
    this.flags?.destroy();
    this.quantizer.destroy();
    this.staging = this.flags = null;
  }

  private async stream(job: Job, cpu: boolean): Promise<void> {
    const { target, name, start, numel } = job;
    const { device } = this.engine.gpu;
    const dq = target.format === 'nf4' && !!target.qabsmax;
    // Double quantization needs every absmax of the tensor first: they land here, then on the CPU.
    const absmax = dq ? device.createBuffer({ label: `${name}:absmax`, size: 4 * Math.ceil(numel / 64), usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST }) : target.absmax;
    let slot = -1;
    try {
      const read = (at: number) => {
        const p = this.readRaw(name, { start: start + at, count: Math.min(this.chunk, numel - at) });
        p.catch(() => undefined); // a read ahead that fails after this stream failed is no unhandled rejection
        return p;
      };
      let next: Promise<RawTensor> | null = read(0);
      for (let at = 0; next; at += this.chunk) {
        const raw: RawTensor = await next;
        next = at + this.chunk < numel ? read(at + this.chunk) : null; // the next chunk is read while the GPU works
        const n = Math.min(this.chunk, numel - at);
        const kind = RAW_OF[raw.dtype];
        if (cpu || !kind) {
          this.packOnCpu(target, absmax, raw, n, at);
        } else if (SAME[raw.dtype] === target.format) {
          writePadded(device, refBuffer(target.words), wordsOffset(target, at), raw.bytes);
        } else {
          if (target.format === 'nf4' && slot < 0) slot = await this.slotFor(job);
          const staging = this.stagingBuffer();
          writePadded(device, staging, 0, raw.bytes);
          await this.quantizer.submit({
            raw: kind, format: target.format, n, src: staging,
            words: { buffer: refBuffer(target.words), offset: wordsOffset(target, at) },
            ...(absmax ? { absmax: { buffer: absmax, offset: (4 * at) / 64 } } : {}),
            ...(target.format === 'nf4' ? { flags: this.flags!, slot } : {}),
            label: `quantize ${name}[${start + at}:${start + at + n}] -> ${target.format}`,
          });
        }
        await this.throttle(raw.bytes.byteLength);
      }
      if (dq) {
        const [a] = await readBuffers(device, [{ buffer: absmax! }]);
        const d = packDoubleQuant(new Float32Array(a));
        device.queue.writeBuffer(target.qabsmax!, 0, d.qabsmax);
        device.queue.writeBuffer(target.dq!, 0, d.dq);
      }
    } finally {
      if (dq) absmax!.destroy();
    }
  }

  /** The CPU packer on one chunk (blocks and words never straddle chunks: they start on 4096 elements). */
  private packOnCpu(target: WeightTarget, absmax: GPUBuffer | undefined, raw: RawTensor, n: number, at: number): void {
    const { device } = this.engine.gpu;
    const p = packWeight(decodeToF32(raw.dtype, raw.bytes), target.format);
    if (p.numel !== n) throw new RangeError(`weight stream: read ${p.numel} elements where ${n} were asked`);
    device.queue.writeBuffer(refBuffer(target.words), wordsOffset(target, at), p.words);
    if (absmax && p.absmax) device.queue.writeBuffer(absmax, (4 * at) / 64, p.absmax);
  }

  /**
   * Bytes written to the queue are copied by the implementation until the GPU has used them: wait
   * for the device whenever two chunks' worth are queued, so those copies stay bounded too.
   */
  private async throttle(bytes: number): Promise<void> {
    this.queued += bytes;
    if (this.queued < 2 * 4 * this.chunk) return;
    this.queued = 0;
    await this.engine.gpu.device.queue.onSubmittedWorkDone();
  }

  private stagingBuffer(): GPUBuffer {
    // (chunk) elements of at most 4 bytes: the file's bytes of one chunk. Load-time space, off the ledger.
    this.staging ??= this.engine.gpu.device.createBuffer({ label: 'weight stream staging', size: 4 * this.chunk, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
    return this.staging;
  }

  private async slotFor(job: Job): Promise<number> {
    if (this.slots.length === FLAG_SLOTS) await this.checkFlags();
    if (!this.flags) {
      // (FLAG_SLOTS) u32: blocks of each tensor the GPU could not quantize exactly.
      this.flags = this.engine.gpu.device.createBuffer({ label: 'weight stream flags', size: 4 * FLAG_SLOTS, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
    }
    this.slots.push(job);
    return this.slots.length - 1;
  }

  /** Read the flags once; pack every flagged tensor on the CPU; start the slots afresh. */
  private async checkFlags(): Promise<void> {
    if (!this.flags || this.slots.length === 0) return;
    const { device } = this.engine.gpu;
    const [bytes] = await readBuffers(device, [{ buffer: this.flags, size: 4 * this.slots.length }]);
    const counts = new Uint32Array(bytes);
    const jobs = this.slots;
    this.slots = [];
    device.queue.writeBuffer(this.flags, 0, new Uint32Array(FLAG_SLOTS));
    for (let i = 0; i < jobs.length; i++) if (counts[i] > 0) await this.stream(jobs[i], true);
  }
}

/** Byte offset of element `at` in the target's words (a multiple of 4096 elements: 256-byte aligned). */
function wordsOffset(target: WeightTarget, at: number): number {
  const base = 'buffer' in target.words ? target.words.offset ?? 0 : 0;
  return base + (4 * at) / ELEMENTS_PER_WORD[target.format];
}

/** queue.writeBuffer of bytes whose length may not be a multiple of 4 (an odd count of 16-bit elements). */
function writePadded(device: GPUDevice, buffer: GPUBuffer, offset: number, bytes: Uint8Array): void {
  if (bytes.byteLength % 4 === 0) {
    device.queue.writeBuffer(buffer, offset, bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return;
  }
  const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
  padded.set(bytes);
  device.queue.writeBuffer(buffer, offset, padded);
}
