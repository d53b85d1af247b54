/**
 * The frozen base model on the GPU. Linear layers are stored in the run's base precision (NF4,
 * int8, f16, bf16 or f32); the embedding table as the checkpoint stores it (16-bit, or f32: see
 * embeddingFormat), in vocabulary shards that each fit one binding; a linear too large for one
 * binding (an f32 MLP weight of a 7B model) in row shards; norm weights stay f32 (a small share of a
 * model). When the head is tied, it reads the embedding shards as they are.
 */
import type { TensorLoader } from '../../io/model-source/types';
import type { Engine } from '../../engine/context';
import { BufferUsage } from '../../engine/flags';
import { refBuffer, type PreparedOp } from '../../engine/kernels/common';
import { prepareEmbeddingForward, type EmbeddingForwardArgs } from '../../engine/kernels/embedding';
import { rowShardRanges, weightBufferBytes, type GpuWeight, type ShardedWeight } from '../../engine/kernels/weights';
import { packWeight, type WeightFormat } from '../../reference/quant/packed';
import { WeightStream } from './weight-stream';
import type { ModelConfig } from '../../config/model-config';
import { modulePath, moduleShape, type ModuleName } from '../../config/lora-targets';

export const LAYER_LINEARS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const satisfies readonly ModuleName[];
export type LayerLinear = (typeof LAYER_LINEARS)[number];

/**
 * One decoder layer's weights. The norms by role (their Hugging Face names differ by family:
 * see src/config/architecture-features.ts).
 */
export interface LayerWeights {
  /** input_layernorm (C): the attention's input. */
  inputNorm: GPUBuffer;
  /** The MLP's input norm (C): post_attention_layernorm (Llama), pre_feedforward_layernorm (Gemma). */
  mlpNorm: GPUBuffer;
  /** Gemma: the attention output's norm before the residual add (C), post_attention_layernorm. */
  attnOutNorm?: GPUBuffer;
  /** Gemma: the MLP output's norm before the residual add (C), post_feedforward_layernorm. */
  mlpOutNorm?: GPUBuffer;
  /** Qwen3, Gemma 3: per-head norms of queries and keys, q_norm / k_norm (D). */
  qNorm?: GPUBuffer;
  kNorm?: GPUBuffer;
  /** (out, in) each, in row shards that fit a binding (one shard, the weight whole, when it fits). */
  linears: Record<LayerLinear, ShardedWeight>;
  /** q/k/v biases, (out) each, when the architecture has them. */
  bias: Partial<Record<'q_proj' | 'k_proj' | 'v_proj', GPUBuffer>>;
}

export interface EmbedShard {
  v0: number;
  rows: number;
  format: EmbeddingFormat;
  buffer: GPUBuffer; // (rows, C) in `format`
}

export type EmbeddingFormat = 'f32' | 'f16' | 'bf16';

/**
 * The embedding table's storage: as the checkpoint stores it (bf16 / f16, read by the gather and the
 * tied head as stored: no f32 copy on the GPU), unless the run keeps the base in f32. An odd hidden
 * size stays f32 (a tied head's chunk views must start on 256-byte boundaries).
 */
export function embeddingFormat(cfg: Pick<ModelConfig, 'torchDtype' | 'hiddenSize'>, format: WeightFormat): EmbeddingFormat {
  if (format === 'f32' || cfg.hiddenSize % 2 !== 0) return 'f32';
  return cfg.torchDtype === 'bfloat16' ? 'bf16' : cfg.torchDtype === 'float16' ? 'f16' : 'f32';
}

export interface BaseWeights {
  /** The embedding table (V, C) f32 in vocabulary shards, each [v0, v0 + rows) in one buffer that fits a binding. */
  embed: EmbedShard[];
  layers: LayerWeights[];
  finalNorm: GPUBuffer; // (C)
  /**
   * The LM head, one weight per vocabulary chunk (Vc rows each, the last may be short) so the
   * logits of one chunk are computed at a time: in the base precision, or views of the f32
   * embedding table when the head is tied.
   */
  headChunks: GpuWeight[];
}

// COPY_SRC: full finetuning reads the trained weights back (export, checkpoints).
const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC;

function f32Buffer(engine: Engine, label: string, elements: number): Promise<GPUBuffer> {
  return engine.pool.alloc({ size: 4 * elements, usage: STORAGE, category: 'weights', label });
}

/** Allocate the buffers of one packed weight (sizes from weightBufferBytes: the plan and the run agree). */
async function allocWeight(engine: Engine, format: WeightFormat, rows: number, cols: number, doubleQuant: boolean, label: string): Promise<GpuWeight> {
  const dq = format === 'nf4' && doubleQuant;
  const sizes = weightBufferBytes(format, rows, cols, { doubleQuant: dq });
  const alloc = (i: number, part: string) => engine.pool.alloc({ size: sizes[i], usage: STORAGE, category: 'weights', label: `${label}.${part}` });
  const w: GpuWeight = { format, rows, cols, words: await alloc(0, format) };
  if (format === 'int8' || (format === 'nf4' && !dq)) w.absmax = await alloc(1, 'absmax');
  if (dq) {
    w.qabsmax = await alloc(1, 'qabsmax');
    w.dq = await alloc(2, 'dq');
  }
  return w;
}

/** A (rows, cols) weight in row shards that each fit `maxBindingBytes` (labelled `name[r0:r1]` when cut). */
async function allocShardedWeight(
  engine: Engine, format: WeightFormat, rows: number, cols: number, doubleQuant: boolean, maxBindingBytes: number, label: string,
): Promise<ShardedWeight> {
  const ranges = rowShardRanges(format, rows, cols, maxBindingBytes, { doubleQuant: format === 'nf4' && doubleQuant });
  const shards: ShardedWeight['shards'] = [];
  for (const [r0, n] of ranges) {
    shards.push({ r0, weight: await allocWeight(engine, format, n, cols, doubleQuant, ranges.length > 1 ? `${label}[${r0}:${r0 + n}]` : label) });
  }
  return { format, rows, cols, shards };
}

/** Quantize (or pack) a tensor on the CPU and write it into its planned buffers. */
function writeWeight(engine: Engine, w: GpuWeight, data: Float32Array, doubleQuant: boolean): void {
  const p = packWeight(data, w.format, { doubleQuant: w.format === 'nf4' && doubleQuant });
  const q = engine.gpu.device.queue;
  q.writeBuffer(refBuffer(w.words), 0, p.words); // own buffers only (views are the tied head's)
  if (w.absmax && p.absmax) q.writeBuffer(w.absmax, 0, p.absmax);
  if (w.qabsmax && p.doubleQuant) {
    q.writeBuffer(w.qabsmax, 0, p.doubleQuant.qabsmax);
    q.writeBuffer(w.dq!, 0, p.doubleQuant.dq);
  }
}

/**
 * Allocate the base model in `format` and, when `load` is given, stream its tensors in one at a
 * time (each is quantized on the way, so no f32 copy of the whole model is ever held). A loader
 * that reads raw bytes (`load.raw`, every model source) streams the linears, the head and the
 * embedding in bounded chunks through the GPU quantizer (./weight-stream.ts); any other loader
 * (tests' in-memory weights) goes through the CPU packer. Without `load` (the memory plan), only
 * the allocation happens.
 */
export async function createBaseWeights(
  engine: Engine, cfg: ModelConfig, format: WeightFormat, doubleQuant: boolean,
  vocab: { chunks: readonly [number, number][]; embedShards: readonly [number, number][]; maxBindingBytes?: number }, load?: TensorLoader,
): Promise<BaseWeights> {
  const { chunks } = vocab;
  const C = cfg.hiddenSize;
  const put = async (buffer: GPUBuffer, name: string) => {
    if (load) engine.gpu.device.queue.writeBuffer(buffer, 0, await load(name));
  };
  const stream = load?.raw ? new WeightStream(engine, load.raw) : null;
  const embedFormat = embeddingFormat(cfg, format);
  const embed: EmbedShard[] = [];
  for (const [v0, rows] of vocab.embedShards) {
    const label = vocab.embedShards.length > 1 ? `model.embed_tokens.weight[${v0}:${v0 + rows}]` : 'model.embed_tokens.weight';
    const size = weightBufferBytes(embedFormat, rows, C)[0];
    embed.push({ v0, rows, format: embedFormat, buffer: await engine.pool.alloc({ size, usage: STORAGE, category: 'weights', label }) });
  }
  if (stream) {
    for (const s of embed) await stream.write({ format: s.format, words: s.buffer }, 'model.embed_tokens.weight', s.v0 * C, s.rows * C);
  } else if (load) {
    // Row blocks of at most 16 MiB of f32, read and packed one at a time: never the whole table in f32.
    const blockRows = Math.max(2, Math.floor(2 ** 22 / C) & ~1);
    for (const s of embed) {
      for (let r = 0; r < s.rows; r += blockRows) {
        const n = Math.min(blockRows, s.rows - r);
        const rows = await loadRows(load, 'model.embed_tokens.weight', s.v0 + r, n, C); // (n, C)
        const bytesPerElement = s.format === 'f32' ? 4 : 2;
        engine.gpu.device.queue.writeBuffer(s.buffer, bytesPerElement * r * C, s.format === 'f32' ? rows : packWeight(rows, s.format).words);
      }
    }
  }

  const layers: LayerWeights[] = [];
  for (let l = 0; l < cfg.numLayers; l++) {
    const prefix = `model.layers.${l}`;
    const norm = async (name: string, n: number) => {
      const b = await f32Buffer(engine, `${prefix}.${name}.weight`, n);
      await put(b, `${prefix}.${name}.weight`);
      return b;
    };
    const sandwich = cfg.sandwichNorms === true;
    const norms: Pick<LayerWeights, 'inputNorm' | 'mlpNorm' | 'attnOutNorm' | 'mlpOutNorm' | 'qNorm' | 'kNorm'> = {
      inputNorm: await norm('input_layernorm', C),
      ...(sandwich ? { attnOutNorm: await norm('post_attention_layernorm', C) } : {}),
      mlpNorm: await norm(sandwich ? 'pre_feedforward_layernorm' : 'post_attention_layernorm', C),
      ...(sandwich ? { mlpOutNorm: await norm('post_feedforward_layernorm', C) } : {}),
      ...(cfg.qkNorm ? { qNorm: await norm('self_attn.q_norm', cfg.headDim), kNorm: await norm('self_attn.k_norm', cfg.headDim) } : {}),
    };
    const linears = {} as Record<LayerLinear, ShardedWeight>;
    const bias: LayerWeights['bias'] = {};
    for (const m of LAYER_LINEARS) {
      const { out, in: inF } = moduleShape(m, cfg);
      const name = modulePath(m, l);
      linears[m] = await allocShardedWeight(engine, format, out, inF, doubleQuant, vocab.maxBindingBytes ?? Infinity, `${name}.weight`);
      if (stream) {
        for (const s of linears[m].shards) await stream.write(s.weight, `${name}.weight`, s.r0 * inF, s.weight.rows * inF);
      } else if (load) {
        const W = await load(`${name}.weight`); // (out, in)
        for (const s of linears[m].shards) writeWeight(engine, s.weight, W.subarray(s.r0 * inF, (s.r0 + s.weight.rows) * inF), doubleQuant);
      }
      if (cfg.attentionBias && (m === 'q_proj' || m === 'k_proj' || m === 'v_proj')) {
        bias[m] = await f32Buffer(engine, `${name}.bias`, out);
        await put(bias[m]!, `${name}.bias`);
      }
    }
    layers.push({ ...norms, linears, bias });
  }
  const finalNorm = await f32Buffer(engine, 'model.norm.weight', C);
  await put(finalNorm, 'model.norm.weight');

  const headChunks: GpuWeight[] = [];
  if (cfg.tieWordEmbeddings) {
    // Views of the embedding shards: every chunk lies inside one shard (graphDims cuts shards at chunk boundaries).
    for (const [v0, rows] of chunks) {
      const s = embed.find((x) => v0 >= x.v0 && v0 + rows <= x.v0 + x.rows)!;
      const bytesPerElement = s.format === 'f32' ? 4 : 2;
      headChunks.push({ format: s.format, rows, cols: C, words: { buffer: s.buffer, offset: bytesPerElement * (v0 - s.v0) * C } });
    }
  } else {
    for (const [v0, rows] of chunks) headChunks.push(await allocWeight(engine, format, rows, C, doubleQuant, `lm_head.weight[${v0}:${v0 + rows}]`));
    if (stream) {
      for (const [i, [v0, rows]] of chunks.entries()) await stream.write(headChunks[i], 'lm_head.weight', v0 * C, rows * C);
    } else if (load) {
      // Chunk by chunk (Vc, C): read, quantized and written one at a time.
      for (const [i, [v0, rows]] of chunks.entries()) writeWeight(engine, headChunks[i], await loadRows(load, 'lm_head.weight', v0, rows, C), doubleQuant);
    }
  }
  await stream?.finish();
  return { embed, layers, finalNorm, headChunks };
}

/**
 * Rows [r0, r0 + n) of a (rows, C) tensor as f32 (n, C): read as a range where the loader can, else
 * cut from the whole tensor it returns.
 */
async function loadRows(load: TensorLoader, name: string, r0: number, n: number, C: number): Promise<Float32Array<ArrayBuffer>> {
  const got = await load(name, { start: r0 * C, count: n * C });
  return got.length === n * C ? got : got.subarray(r0 * C, (r0 + n) * C);
}

/** The embedding gather over every shard of the table: one op per shard, each filling its tokens' rows. */
export async function prepareEmbeddingShards(
  engine: Engine, shards: readonly EmbedShard[], a: Omit<EmbeddingForwardArgs, 'table' | 'format' | 'v0' | 'Vtotal'>,
): Promise<PreparedOp[]> {
  const label = (s: EmbedShard) => (shards.length > 1 ? `${a.label} [${s.v0}:${s.v0 + s.rows}]` : a.label);
  return Promise.all(shards.map((s) => prepareEmbeddingForward(engine, { ...a, table: s.buffer, format: s.format, V: s.rows, v0: s.v0, Vtotal: a.V, label: label(s) })));
}
