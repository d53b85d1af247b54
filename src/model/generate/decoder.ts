/**
 * A decoder for text generation on the GPU with a KV cache, built once (buffers, pipelines, bind
 * groups) over base weights already on the GPU and an optional LoRA adapter:
 *   feed(ids)  runs ids at the next positions, appending their keys and values to the cache, and
 *              returns the logits (V) of the last one: a prompt goes through in chunks of Tc rows
 *              (tiled matmuls), a single token through the one-row path (matrix-vector products)
 *   generate   prompt -> new token ids, sampled on the CPU from one readback of logits per token
 * Positions run 0 .. maxLen-1; `reset` starts a new sequence (and chooses base or base + adapter).
 */
import type { Engine } from '../../engine/context';
import { BufferUsage, MapMode } from '../../engine/flags';
import { writeDecodeStep } from '../../engine/kernels/kv-cache';
import type { ModelConfig } from '../../config/model-config';
import type { BaseWeights } from '../graph/base-weights';
import { createDecoderBuffers, decoderBufferList, decoderDims, type DecoderBuffers, type DecoderDims } from './buffers';
import { runGeneration, type GenerateOptions, type GenerationStats } from './generate';
import { checkDecoderLora, type DecoderLora } from './lora-source';
import { allocFlat, writeFlat, type FlatVector } from '../graph/lora-state';
import { maxBindingBytes } from '../graph/dims';
import { loraChunks } from '../plan/lora-chunks';
import { allocDoraBuffers } from '../graph/dora';
import { prepareDecoderHead, prepareDoraNorms, prepareTrunk, type DecoderContext, type TaggedOp, type Trunk } from './trunk';

export interface DecoderOptions {
  /** Positions the KV cache holds: prompt + generated tokens. At most max_position_embeddings. */
  maxLen: number;
  /** Rows of a prefill chunk (default min(maxLen, 64): one row tile of the matmul). */
  prefillChunk?: number;
  /** The largest binding to size pieces for (default: the engine's device; a memory plan passes the real device's). */
  maxBindingBytes?: number;
}

export interface Decoder {
  readonly model: ModelConfig;
  readonly maxLen: number;
  readonly prefillChunk: number;
  /** Whether an adapter was given. */
  readonly hasAdapter: boolean;
  /** Tokens in the cache: the position of the next token fed. */
  readonly position: number;
  /** Whether the current sequence runs with the adapter (set by reset). */
  readonly adapterOn: boolean;
  /** The statistics of the last `generate`. */
  readonly lastStats: GenerationStats | null;
  /** Start a new sequence, with the adapter (default, when there is one) or the base model alone. */
  reset(useAdapter?: boolean): void;
  /** Run `ids` at the next positions; the logits (V) of the last one. */
  feed(ids: readonly number[], signal?: AbortSignal): Promise<Float32Array>;
  /** Reset, run the prompt, then sample new tokens; returns them (a stop id is not included). */
  generate(prompt: readonly number[], opts?: GenerateOptions): Promise<number[]>;
  /** Free every buffer the decoder made (not the base weights, nor a LoRA buffer it was given). */
  destroy(): void;
}

export async function createDecoder(
  engine: Engine, model: ModelConfig, base: BaseWeights, lora: DecoderLora | null, opts: DecoderOptions,
): Promise<Decoder> {
  const { maxLen } = opts;
  if (!Number.isSafeInteger(maxLen) || maxLen < 1) throw new RangeError(`decoder: maxLen must be a positive integer, got ${maxLen}`);
  if (maxLen > model.maxPositionEmbeddings) {
    throw new RangeError(`decoder: maxLen ${maxLen} exceeds the model's max_position_embeddings (${model.maxPositionEmbeddings})`);
  }
  const chunk = opts.prefillChunk ?? 64;
  if (!Number.isSafeInteger(chunk) || chunk < 1) throw new RangeError(`decoder: prefillChunk must be a positive integer, got ${chunk}`);
  const Tc = Math.min(chunk, maxLen);
  checkBase(model, base);
  if (lora) checkDecoderLora(model, lora);

  const cap = opts.maxBindingBytes ?? maxBindingBytes(engine.gpu.limits);
  checkKvCache(model, maxLen, cap);
  const owned: GPUBuffer[] = [];
  let params: FlatVector | null = null;
  if (lora) {
    if (lora.params instanceof Float32Array) {
      // In chunks that fit a binding, lm_head's B cut (if at all) at this base's head chunks.
      params = await allocFlat(engine, loraChunks(lora.layout, cap, base.headChunks[0].rows), 'lora', 'decoder lora params', BufferUsage.STORAGE | BufferUsage.COPY_DST);
      writeFlat(engine.gpu.device.queue, params, lora.params);
      owned.push(...params.buffers);
    } else {
      params = lora.params;
    }
  }
  const dims = decoderDims(model, maxLen, Tc);
  const buf = await createDecoderBuffers(engine, model, dims, lora?.layout ?? null);
  owned.push(...decoderBufferList(buf));
  // DoRA: each module's norms (filled at the start of each sequence) and one (Tc, max out) scratch (the head's: one chunk).
  const dora = lora ? await allocDoraBuffers(engine, lora.layout.slots, Tc, Tc, Math.max(...base.headChunks.map((w) => w.rows))) : null;
  if (dora) owned.push(...new Set([...dora.values()].flatMap((d) => [d.t, d.norm])));
  const ctx: DecoderContext = { engine, model, dims, base, buf, lora: lora && params ? { layout: lora.layout, params } : null, dora };
  const prefill = await prepareTrunk(ctx, Tc);
  const single = Tc === 1 ? prefill : await prepareTrunk(ctx, 1);
  const head = await prepareDecoderHead(ctx);
  const norms = await prepareDoraNorms(ctx);
  return new GpuDecoder(engine, model, dims, buf, prefill, single, head, norms, !!lora, owned);
}

/**
 * Each layer's K and V caches are one binding of (maxLen, KV*D) f32: refuse a length whose cache
 * would not fit (a 128k context of an 8B model is 512 MiB per layer), naming the longest that does.
 */
function checkKvCache(model: ModelConfig, maxLen: number, cap: number): void {
  const row = 4 * model.numKvHeads * model.headDim;
  if (maxLen * row <= cap) return;
  throw new RangeError(`decoder: a KV cache of ${maxLen} positions needs ${(maxLen * row / 2 ** 20).toFixed(1)} MiB per layer, above the ` +
    `${(cap / 2 ** 20).toFixed(1)} MiB one GPU binding takes; generate at most ${Math.floor(cap / row)} positions (prompt + new tokens)`);
}

/** The base weights must be this model's (layer count, head rows, alignment of the head chunks). */
function checkBase(model: ModelConfig, base: BaseWeights): void {
  if (base.layers.length !== model.numLayers) throw new RangeError(`decoder: the base weights have ${base.layers.length} layers, the model ${model.numLayers}`);
  let v0 = 0;
  for (const w of base.headChunks) {
    if (w.cols !== model.hiddenSize) throw new RangeError(`decoder: an LM-head chunk has ${w.cols} columns, the model's hidden size is ${model.hiddenSize}`);
    if (v0 % 64) throw new RangeError(`decoder: LM-head chunk at row ${v0} is not a multiple of 64 (build the base with graphDims' chunks)`);
    v0 += w.rows;
  }
  if (v0 !== model.vocabSize) throw new RangeError(`decoder: the LM-head chunks cover ${v0} rows, the vocabulary has ${model.vocabSize}`);
}

class GpuDecoder implements Decoder {
  position = 0;
  adapterOn: boolean;
  lastStats: GenerationStats | null = null;
  private busy = false;
  private generating = false;
  private destroyed = false;
  readonly maxLen: number;
  readonly prefillChunk: number;

  constructor(
    private readonly engine: Engine, readonly model: ModelConfig, private readonly dims: DecoderDims, private readonly buf: DecoderBuffers,
    private readonly prefill: Trunk, private readonly single: Trunk, private readonly head: TaggedOp[],
    /** DoRA's row norms, run before a sequence's first chunk (empty without DoRA) */
    private readonly doraNorms: TaggedOp[],
    readonly hasAdapter: boolean, private readonly owned: GPUBuffer[],
  ) {
    this.adapterOn = hasAdapter;
    this.maxLen = dims.maxLen;
    this.prefillChunk = dims.Tc;
  }

  reset(useAdapter = this.hasAdapter): void {
    if (useAdapter && !this.hasAdapter) throw new RangeError('decoder: this decoder has no adapter');
    if (this.busy) throw new Error('decoder: busy with another call (one sequence at a time)');
    this.position = 0;
    this.adapterOn = useAdapter;
  }

  async feed(ids: readonly number[], signal?: AbortSignal): Promise<Float32Array> {
    if (this.destroyed) throw new Error('decoder: used after destroy()');
    if (this.busy) throw new Error('decoder: busy with another call (one sequence at a time)');
    if (ids.length === 0) throw new RangeError('decoder: nothing to feed (empty token list)');
    const V = this.dims.V;
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new RangeError(`decoder: token ${i} is ${id}, outside the vocabulary [0, ${V})`);
    });
    if (this.position + ids.length > this.maxLen) {
      throw new RangeError(`decoder: ${ids.length} tokens at position ${this.position} do not fit the cache of ${this.maxLen} positions`);
    }
    this.busy = true;
    try {
      const trunk = ids.length === 1 ? this.single : this.prefill;
      for (let start = 0; start < ids.length; start += trunk.M) {
        signal?.throwIfAborted();
        const rows = Math.min(trunk.M, ids.length - start);
        this.submit(trunk, ids.slice(start, start + rows), start + rows === ids.length);
        this.position += rows;
      }
      return await this.readLogits();
    } finally {
      this.busy = false;
    }
  }

  /** One step of `rows` tokens at the current position; the last one also runs the head. */
  private submit(trunk: Trunk, ids: readonly number[], last: boolean): void {
    const { engine, buf } = this;
    const q = engine.gpu.device.queue;
    const tokens = new Int32Array(trunk.M);
    tokens.set(ids);
    q.writeBuffer(buf.tokens, 0, tokens);
    writeDecodeStep(engine, buf.step, this.position, ids.length);
    for (const r of trunk.ropes) r.setPosOffset(this.position);
    const enc = engine.gpu.device.createCommandEncoder({ label: `decode at ${this.position}` });
    if (this.position === 0 && this.doraNorms.length) this.encode(enc, this.doraNorms, 'dora norms');
    this.encode(enc, trunk.ops, trunk.M === 1 ? 'decode' : 'prefill');
    if (last) {
      const C = this.dims.C;
      enc.copyBufferToBuffer(buf.x, 4 * (ids.length - 1) * C, buf.xLast, 0, 4 * C);
      this.encode(enc, this.head, 'head');
      enc.copyBufferToBuffer(buf.logits, 0, buf.staging, 0, 4 * this.dims.V);
    }
    q.submit([enc.finish()]);
  }

  private encode(enc: GPUCommandEncoder, ops: TaggedOp[], label: string): void {
    const pass = enc.beginComputePass({ label });
    for (const t of ops) if (this.adapterOn || !t.lora) t.op.encode(pass);
    pass.end();
  }

  private async readLogits(): Promise<Float32Array> {
    const s = this.buf.staging;
    await s.mapAsync(MapMode.READ, 0, 4 * this.dims.V);
    const out = new Float32Array(s.getMappedRange(0, 4 * this.dims.V).slice(0));
    s.unmap();
    // Final-logit softcapping (Gemma 2) on the CPU: V values per token, and it leaves the argmax alone.
    const cap = this.model.finalLogitSoftcap;
    if (cap) for (let i = 0; i < out.length; i++) out[i] = cap * Math.tanh(out[i] / cap);
    return out;
  }

  async generate(prompt: readonly number[], opts: GenerateOptions = {}): Promise<number[]> {
    if (this.generating) throw new Error('decoder: already generating (one sequence at a time; build a second decoder for side by side)');
    this.generating = true;
    try {
      const { ids, stats } = await runGeneration(this, prompt, opts);
      this.lastStats = stats;
      return ids;
    } finally {
      this.generating = false;
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const t of [...this.prefill.ops, ...(this.single === this.prefill ? [] : this.single.ops), ...this.head, ...this.doraNorms]) t.op.destroy();
    for (const b of this.owned) this.engine.pool.destroy(b);
  }
}

export type { DecoderDims };
