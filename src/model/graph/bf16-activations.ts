/**
 * bf16 activations (`activationPrecision: 'bf16'`): the activations a layer keeps for its backward
 * are stored as bf16 (round to nearest even, two per u32 word); the math stays f32. Every layer's
 * forward runs on one f32 working set (shared by all layers) exactly as in f32, storing packed
 * copies of what its backward reads as it goes; the backward loads a layer's copies back into the
 * working set. So the loss is the f32 loss, and the backward reads bf16 values. The CPU reference
 * does the same (roundStored in src/reference/layer.ts): per-row statistics (rstd, the attention
 * lse), the LoRA hiddens and the last layer's output stay f32.
 *
 * Only what the layer's backward reads is stored: x unless it is the first layer (its input
 * gradient is not needed), xn1 / xn2 / a only when a module reading them is adapted. The last layer
 * stores nothing: its backward runs on the working set, rounded in place first. With checkpointing
 * only x is stored; the recomputed activations are rounded in place before the backward reads them.
 *
 * The MLP's (N, F) fields g, u, a live in one buffer per token-row chunk of the MLP
 * (./mlp-chunks.ts; one (N, F) buffer when it is not split): each chunk has its own packed copy,
 * stored by that chunk's forward, and loaded or rounded with the others. Rounding is per element,
 * so the values are those of the unchunked graph.
 */
import type { Engine } from '../../engine/context';
import { prepareBf16Load, prepareBf16Round, prepareBf16Store } from '../../engine/kernels/bf16-store';
import type { PreparedOp } from '../../engine/kernels/common';
import type { ModuleName } from '../../config/lora-targets';
import type { GraphDims } from './dims';

/** The activations stored in bf16, by their LayerActivations name (qp, kp under qk; o, m under sandwich). */
export const BF16_FIELDS = ['x', 'xn1', 'qp', 'kp', 'q', 'k', 'v', 'att', 'o', 'x1', 'xn2', 'g', 'u', 'a', 'm'] as const;
export type Bf16Field = (typeof BF16_FIELDS)[number];

/** The MLP's (N, F) fields: one buffer per token-row chunk. */
export const MLP_FIELDS = ['g', 'u', 'a'] as const;
export type MlpField = (typeof MLP_FIELDS)[number];
const isMlpField = (f: Bf16Field): f is MlpField => (MLP_FIELDS as readonly string[]).includes(f);

/** Packed copies of one layer's stored activations: field -> (ceil(n / 2)) u32 words. */
export type PackedActivations = Partial<Record<Bf16Field, GPUBuffer>>;

/** How one layer keeps its activations in bf16 mode. */
export interface Bf16Layer {
  /**
   * The stored copies, loaded into the working set before the layer's backward (or its recompute):
   * every field in one buffer, g / u / a too when the MLP runs in one chunk.
   */
  packed: PackedActivations;
  /** The MLP runs in several token-row chunks: g / u / a's copies, one per chunk, ceil(rows * F / 2) words each (not in `packed`). */
  packedRows?: Partial<Record<MlpField, GPUBuffer[]>>;
  /** Fields its backward reads that are not stored: rounded in place in the working set first (after a recompute). */
  rounded: Bf16Field[];
}

/** A layer's activations as this file reads them (LayerActivations in ./activations.ts); g, u, a one buffer per MLP chunk. */
export type LayerFields = Partial<Record<Exclude<Bf16Field, 'qp' | 'kp' | 'o' | 'm' | MlpField>, GPUBuffer>> & Partial<Record<MlpField, GPUBuffer[]>> & {
  qk?: { qp: GPUBuffer; kp: GPUBuffer };
  sandwich?: { o: GPUBuffer; m: GPUBuffer };
  /** bf16 mode only (absent in f32). */
  bf16?: Bf16Layer;
};

/** The f32 working buffer of a field of one buffer (not g, u, a), or null when the architecture has no such activation. */
function workingBuffer(la: LayerFields, f: Exclude<Bf16Field, MlpField>): GPUBuffer | null {
  switch (f) {
    case 'qp': return la.qk?.qp ?? null;
    case 'kp': return la.qk?.kp ?? null;
    case 'o': return la.sandwich?.o ?? null;
    case 'm': return la.sandwich?.m ?? null;
    default: return la[f] ?? null;
  }
}

/** One buffer of a field: the f32 working values (n) and its packed copy, if the layer stores the field. */
interface FieldPiece {
  values: GPUBuffer;
  packed: GPUBuffer | undefined;
  n: number;
}

/** A field's buffers: one, or for g / u / a one per MLP token-row chunk (dims.mlpChunks); none when the architecture lacks it. */
function fieldPieces(d: GraphDims, la: LayerFields, f: Bf16Field): FieldPiece[] {
  if (isMlpField(f)) {
    const chunks = la[f] ?? [];
    return chunks.map((values, k) => ({
      values, n: d.mlpChunks[k][1] * d.F, packed: chunks.length === 1 ? la.bf16?.packed[f] : la.bf16?.packedRows?.[f]?.[k],
    }));
  }
  const values = workingBuffer(la, f);
  return values ? [{ values, n: fieldElements(d, f), packed: la.bf16?.packed[f] }] : [];
}

/** The shape of a field: (N, C), (N, H*D), (N, KV*D) or (N, F). */
export function fieldShape(f: Bf16Field): '(N, C)' | '(N, H*D)' | '(N, KV*D)' | '(N, F)' {
  switch (f) {
    case 'q': case 'qp': case 'att': return '(N, H*D)';
    case 'k': case 'kp': case 'v': return '(N, KV*D)';
    case 'g': case 'u': case 'a': return '(N, F)';
    default: return '(N, C)';
  }
}

/** Elements of a field (see fieldShape). */
export function fieldElements(d: GraphDims, f: Bf16Field): number {
  const width = { '(N, C)': d.C, '(N, H*D)': d.H * d.D, '(N, KV*D)': d.KV * d.D, '(N, F)': d.F }[fieldShape(f)];
  return d.N * width;
}

/**
 * The fields layer `layer`'s backward reads (src/model/graph/layer-backward.ts), among those the
 * architecture has: what a layer without checkpointing must store.
 */
export function fieldsReadByBackward(layer: number, adapted: (m: ModuleName) => boolean, features: { qkNorm: boolean; sandwichNorms: boolean }): Bf16Field[] {
  const read = new Set<Bf16Field>(['q', 'k', 'v', 'att', 'x1', 'g', 'u']); // attention, swiglu and norm backward
  if (layer > 0) read.add('x'); // the input norm's backward (skipped in the first layer)
  if (adapted('q_proj') || adapted('k_proj') || adapted('v_proj')) read.add('xn1');
  if (adapted('gate_proj') || adapted('up_proj')) read.add('xn2');
  if (adapted('down_proj')) read.add('a');
  if (features.qkNorm) { read.add('qp'); read.add('kp'); }
  if (features.sandwichNorms) { read.add('o'); read.add('m'); }
  return BF16_FIELDS.filter((f) => read.has(f));
}

/** A piece's label: the field, and the chunk's rows when the MLP has several. */
const pieceLabel = (d: GraphDims, f: Bf16Field, k: number, count: number) =>
  count > 1 ? `${f} rows [${d.mlpChunks[k][0]}:${d.mlpChunks[k][0] + d.mlpChunks[k][1]}]` : f;

/**
 * The forward stores field `f` (just written) in its packed copy, if it has one; nothing when
 * recomputing or in f32. `chunk`: for g / u / a, the MLP chunk just written (default: every chunk).
 */
export async function prepareStore(
  engine: Engine, d: GraphDims, la: LayerFields, f: Bf16Field, recompute: boolean, label: string, chunk?: number,
): Promise<PreparedOp[]> {
  if (recompute) return [];
  const ops: PreparedOp[] = [];
  const pieces = fieldPieces(d, la, f);
  for (const [k, { values, packed, n }] of pieces.entries()) {
    if (!packed || (chunk !== undefined && k !== chunk)) continue;
    ops.push(await prepareBf16Store(engine, { values, packed, n, label: `${label} ${pieceLabel(d, f, k, pieces.length)} bf16 store` }));
  }
  return ops;
}

/** Load every packed copy of a layer back into the working set (before its backward or its recompute). */
export async function prepareLoadPacked(engine: Engine, d: GraphDims, la: LayerFields, label: string): Promise<PreparedOp[]> {
  const ops: PreparedOp[] = [];
  for (const f of BF16_FIELDS) {
    const pieces = fieldPieces(d, la, f);
    for (const [k, { values, packed, n }] of pieces.entries()) {
      if (packed) ops.push(await prepareBf16Load(engine, { values, packed, n, label: `${label} ${pieceLabel(d, f, k, pieces.length)} bf16 load` }));
    }
  }
  return ops;
}

/** Round in place what the layer's backward reads without a stored copy (right before the backward). */
export async function prepareRoundWorking(engine: Engine, d: GraphDims, la: LayerFields, label: string): Promise<PreparedOp[]> {
  const ops: PreparedOp[] = [];
  for (const f of la.bf16?.rounded ?? []) {
    const pieces = fieldPieces(d, la, f);
    for (const [k, { values, n }] of pieces.entries()) {
      ops.push(await prepareBf16Round(engine, { values, n, label: `${label} ${pieceLabel(d, f, k, pieces.length)} bf16 round` }));
    }
  }
  return ops;
}
