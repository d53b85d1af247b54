/**
 * Token embedding (shaders/embedding.wgsl), as src/reference/ops/embedding.ts:
 *   forward   out (N, C) = table[tokens] * scale   a token outside [0, V) gives a zero row (no
 *                                                out-of-bounds read); validate tokens on the CPU
 *   backward  dtable (V, C) (+)= scale * scatter-add of dout (N, C) over tokens
 * `scale` (default 1, which changes no bit) is Gemma's embedding multiplier (sqrt(hidden) rounded to
 * the checkpoint's dtype; pass that value). A tied LM head reads the unscaled table.
 * The backward exists for completeness (the base table is frozen): one invocation per (row, channel)
 * loops over all N tokens, no float atomics, O(V * C * N). It ACCUMULATES by default, like the
 * reference; `accumulate: false` overwrites every row (rows of unused tokens become 0).
 */
import shader from '../../../shaders/embedding.wgsl?raw';
import type { Engine } from '../context';
import { checkDims, checkNoAlias, flatGrid, FLAT_WG, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';
import { layoutSpec } from '../pipelines';

const LAYOUT = layoutSpec(['uniform', 'rw', 'read', 'read']);

export interface EmbeddingForwardArgs {
  /** (N, C) */
  out: BufferRef;
  /** (V, C) in `format` */
  table: BufferRef;
  /** Storage of the table: f32 (default), or f16 / bf16 packed two per word as src/reference/quant/packed.ts. */
  format?: 'f32' | 'f16' | 'bf16';
  /** (N) i32 */
  tokens: BufferRef;
  N: number;
  C: number;
  V: number;
  /** multiplier of the gathered rows; default 1 */
  scale?: number;
  /**
   * A vocabulary shard: `table` holds rows [v0, v0 + V) of a vocabulary of Vtotal rows (defaults 0
   * and V: the whole table). One op per shard fills the rows of the tokens it holds; the shard at
   * v0 = 0 also zeroes the rows of tokens outside the vocabulary.
   */
  v0?: number;
  Vtotal?: number;
  label?: string;
}

export interface EmbeddingBackwardArgs {
  /** (V, C) */
  dtable: BufferRef;
  /** (N, C) */
  dout: BufferRef;
  /** (N) i32 */
  tokens: BufferRef;
  N: number;
  C: number;
  V: number;
  /** dtable += (default, the reference's convention) or dtable = */
  accumulate?: boolean;
  /** as in the forward: the gradient is scaled by it; default 1 */
  scale?: number;
  /** a vocabulary shard: `dtable` holds rows [v0, v0 + V) (default 0, the whole table) */
  v0?: number;
  label?: string;
}

function embeddingParams(label: string, N: number, C: number, V: number, scale = 1, v0 = 0, Vtotal = V): ArrayBuffer {
  if (!Number.isFinite(scale)) throw new RangeError(`${label}: scale must be a finite number, got ${scale}`);
  if (!(Number.isSafeInteger(v0) && v0 >= 0 && v0 + V <= Vtotal)) throw new RangeError(`${label}: shard rows [${v0}, ${v0 + V}) are not inside the vocabulary of ${Vtotal}`);
  return uniformBlock([['u', N], ['u', C], ['u', V], ['f', scale], ['u', v0], ['u', Vtotal], ['u', 0], ['u', 0]]);
}

const TABLE_FORMAT = { f32: 0, f16: 1, bf16: 2 } as const;

export async function prepareEmbeddingForward(engine: Engine, a: EmbeddingForwardArgs): Promise<PreparedOp> {
  const { N, C, V } = a;
  const format = a.format ?? 'f32';
  const label = a.label ?? `embedding fwd ${N}x${C} of ${V}`;
  checkDims(label, { N, C, V });
  const bindings = resolveBindings(engine, label, [
    { name: 'out', ref: a.out, bytes: 4 * N * C, shape: `(N, C) = (${N}, ${C})` },
    { name: 'table', ref: a.table, bytes: format === 'f32' ? 4 * V * C : 4 * Math.ceil((V * C) / 2), shape: `(V, C) = (${V}, ${C}) ${format}` },
    { name: 'tokens', ref: a.tokens, bytes: 4 * N, shape: `(N) = (${N})` },
  ]);
  checkNoAlias(label, bindings[0], bindings.slice(1));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'embedding', code: shader, entryPoint: 'embedding_forward', layout: LAYOUT, constants: { FORMAT: TABLE_FORMAT[format] },
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout,
    uniform: embeddingParams(label, N, C, V, a.scale, a.v0, a.Vtotal),
    resources: bindings,
    workgroups: flatGrid(engine, Math.ceil((N * C) / FLAT_WG)),
  });
}

export async function prepareEmbeddingBackward(engine: Engine, a: EmbeddingBackwardArgs): Promise<PreparedOp> {
  const { N, C, V } = a;
  const label = a.label ?? `embedding bwd ${N}x${C} of ${V}`;
  checkDims(label, { N, C, V });
  const bindings = resolveBindings(engine, label, [
    { name: 'dtable', ref: a.dtable, bytes: 4 * V * C, shape: `(V, C) = (${V}, ${C})` },
    { name: 'dout', ref: a.dout, bytes: 4 * N * C, shape: `(N, C) = (${N}, ${C})` },
    { name: 'tokens', ref: a.tokens, bytes: 4 * N, shape: `(N) = (${N})` },
  ]);
  checkNoAlias(label, bindings[0], bindings.slice(1));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'embedding', code: shader, entryPoint: 'embedding_backward',
    constants: { ACCUMULATE: a.accumulate ?? true }, layout: LAYOUT,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout,
    uniform: embeddingParams(label, N, C, V, a.scale, a.v0 ?? 0, (a.v0 ?? 0) + V),
    resources: bindings,
    workgroups: flatGrid(engine, Math.ceil((V * C) / FLAT_WG)),
  });
}
