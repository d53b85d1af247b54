/**
 * Cross-entropy over the vocabulary in chunks, for the LM head (shaders/cross_entropy.wgsl), as
 * src/reference/ops/cross-entropy.ts (torch's mean reduction, ignore_index = -100). The graph
 * computes the logits of one vocabulary chunk [v0, v0 + Vc) at a time, a (N, Vc) block with row
 * stride ld (ld = Vc when packed; ld = V when the chunks are views { buffer, offset: 4 v0 } of one
 * (N, V) matrix, which needs 4 v0 to be a multiple of minStorageBufferOffsetAlignment), then:
 *   forward   for each chunk: prepareCrossEntropyChunk   folds it into the running max, sumexp and
 *                                                        target logit, each (N)
 *             once:           prepareCrossEntropyFinalize  lse (N), loss (N) (0 for ignored rows),
 *                                                        stats (4) = [mean loss, count, sum, 0]
 *   backward  for each chunk (logits recomputed): prepareCrossEntropyBackward overwrites the block IN
 *             PLACE with dlogits = (softmax - onehot) * dloss / count (0 for ignored rows; all 0
 *             when count = 0). It overwrites: unlike the reference it does not accumulate.
 * The mean loss stays on the GPU (stats[0]); read it back once per logging interval. A target
 * outside [0, V) other than -100 is treated as ignored on the GPU: validate targets on the CPU.
 *
 * Final-logit soft-capping (Gemma 2): with `softcap` on the chunk and backward ops, each logit z is
 * read as c = softcap tanh(z / softcap), so the loss and lse are those of the capped logits (the
 * reference: softcapForward, then crossEntropyForward), and the backward writes the gradient wrt the
 * RAW logits, dz = dc (1 - (c / softcap)^2) (crossEntropyBackward, then softcapBackward). The LM
 * head's matmul needs no change; the finalize has no softcap argument.
 */
import body from '../../../shaders/cross_entropy.wgsl?raw';
import tanhLib from '../../../shaders/lib/tanh.wgsl?raw';
import type { Engine } from '../context';
import { checkDims, checkNoAlias, flatGrid, FLAT_WG, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';
import { layoutSpec } from '../pipelines';

/** The module: the overflow-safe tanh (for the softcap), then the kernels. */
const shader = `${tanhLib}\n${body}`;

const CHUNK = layoutSpec(['uniform', 'rw', 'rw', 'rw', 'read', 'read']);
const FINALIZE = layoutSpec(['uniform', 'rw', 'rw', 'rw', 'read', 'read', 'read', 'read']);
const BACKWARD = layoutSpec(['uniform', 'rw', 'read', 'read', 'read']);

/** Floats in the stats buffer: [mean loss, count, sum of losses, 0]. */
export const CE_STATS_LENGTH = 4;

/** The running per-row state of the chunked forward, each (N). */
export interface CrossEntropyState {
  max: BufferRef;
  sumexp: BufferRef;
  targetLogit: BufferRef;
}

interface ChunkShape {
  /** rows */
  N: number;
  /** full vocabulary */
  V: number;
  /** first vocabulary column of the chunk */
  v0: number;
  /** columns in the chunk (the last one may be short) */
  Vc: number;
  /** row stride of the logits block (default Vc) */
  ld?: number;
  /** final-logit soft-capping: logits are read as softcap tanh(z / softcap); null/absent: none */
  softcap?: number | null;
}

export interface CrossEntropyChunkArgs extends ChunkShape {
  state: CrossEntropyState;
  /** (N, ld), columns [0, Vc) = vocabulary [v0, v0 + Vc) */
  logits: BufferRef;
  /** (N) i32, in [0, V) or -100 */
  targets: BufferRef;
  /** this chunk starts the running state (default: v0 === 0) */
  first?: boolean;
  label?: string;
}

export interface CrossEntropyFinalizeArgs {
  /** (N) logsumexp of every row, for the backward */
  lse: BufferRef;
  /** (N) per-row loss, 0 where the target is ignored */
  loss: BufferRef;
  /** (4) [mean loss, count, sum, 0] */
  stats: BufferRef;
  state: CrossEntropyState;
  /** (N) i32 */
  targets: BufferRef;
  N: number;
  V: number;
  label?: string;
}

export interface CrossEntropyBackwardArgs extends ChunkShape {
  /** (N, ld): the chunk's recomputed logits in, its dlogits out */
  logits: BufferRef;
  /** (N) from the finalize */
  lse: BufferRef;
  /** (4) from the finalize: the count of valid rows */
  stats: BufferRef;
  /** (N) i32 */
  targets: BufferRef;
  /** upstream gradient of the mean loss (default 1; e.g. 1 / gradient-accumulation steps) */
  dloss?: number;
  label?: string;
}

function checkChunk(label: string, a: ChunkShape): number {
  const ld = a.ld ?? a.Vc;
  checkDims(label, { N: a.N, V: a.V, Vc: a.Vc, ld });
  if (!Number.isSafeInteger(a.v0) || a.v0 < 0 || a.v0 + a.Vc > a.V) {
    throw new RangeError(`${label}: chunk [${a.v0}, ${a.v0 + a.Vc}) is outside the vocabulary [0, ${a.V})`);
  }
  if (ld < a.Vc) throw new RangeError(`${label}: row stride ld = ${ld} is below the chunk width Vc = ${a.Vc}`);
  if (a.softcap != null && !(Number.isFinite(a.softcap) && a.softcap > 0)) {
    throw new RangeError(`${label}: softcap must be a positive number, got ${a.softcap}`);
  }
  return ld;
}

/** The SOFTCAP override, only when set (so the uncapped pipelines are the very same as before). */
const softcapConstant = (a: ChunkShape): Record<string, number> => (a.softcap != null ? { SOFTCAP: a.softcap } : {});

const params = (a: ChunkShape, ld: number, first: boolean, dloss: number) => uniformBlock([
  ['u', a.N], ['u', a.V], ['u', a.v0], ['u', a.Vc], ['u', ld], ['u', first ? 1 : 0], ['f', dloss], ['u', 0],
]);

export async function prepareCrossEntropyChunk(engine: Engine, a: CrossEntropyChunkArgs): Promise<PreparedOp> {
  const label = a.label ?? `cross-entropy chunk ${a.N}x[${a.v0}, ${a.v0 + a.Vc})`;
  const ld = checkChunk(label, a);
  const { N } = a;
  const row = `(N) = (${N})`;
  const b = resolveBindings(engine, label, [
    { name: 'max', ref: a.state.max, bytes: 4 * N, shape: row },
    { name: 'sumexp', ref: a.state.sumexp, bytes: 4 * N, shape: row },
    { name: 'targetLogit', ref: a.state.targetLogit, bytes: 4 * N, shape: row },
    { name: 'logits', ref: a.logits, bytes: 4 * ((N - 1) * ld + a.Vc), shape: `(N, ld) = (${N}, ${ld})` },
    { name: 'targets', ref: a.targets, bytes: 4 * N, shape: row },
  ]);
  for (const out of b.slice(0, 3)) checkNoAlias(label, out, b.slice(3));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'cross_entropy', code: shader, entryPoint: 'ce_chunk', layout: CHUNK, constants: softcapConstant(a),
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: params(a, ld, a.first ?? a.v0 === 0, 0),
    resources: b, workgroups: flatGrid(engine, N),
  });
}

export async function prepareCrossEntropyFinalize(engine: Engine, a: CrossEntropyFinalizeArgs): Promise<PreparedOp> {
  const { N, V } = a;
  const label = a.label ?? `cross-entropy finalize ${N}`;
  checkDims(label, { N, V });
  const row = `(N) = (${N})`;
  const b = resolveBindings(engine, label, [
    { name: 'lse', ref: a.lse, bytes: 4 * N, shape: row },
    { name: 'loss', ref: a.loss, bytes: 4 * N, shape: row },
    { name: 'stats', ref: a.stats, bytes: 4 * CE_STATS_LENGTH, shape: `(${CE_STATS_LENGTH})` },
    { name: 'max', ref: a.state.max, bytes: 4 * N, shape: row },
    { name: 'sumexp', ref: a.state.sumexp, bytes: 4 * N, shape: row },
    { name: 'targetLogit', ref: a.state.targetLogit, bytes: 4 * N, shape: row },
    { name: 'targets', ref: a.targets, bytes: 4 * N, shape: row },
  ]);
  for (const out of b.slice(0, 3)) checkNoAlias(label, out, b.slice(3));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'cross_entropy', code: shader, entryPoint: 'ce_finalize', layout: FINALIZE,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: params({ N, V, v0: 0, Vc: 1 }, 1, false, 0),
    resources: b, workgroups: [1, 1, 1],
  });
}

/** The in-place chunk backward; `setDloss` changes the upstream gradient between steps. */
export async function prepareCrossEntropyBackward(
  engine: Engine, a: CrossEntropyBackwardArgs,
): Promise<PreparedOp & { setDloss(dloss: number): void }> {
  const label = a.label ?? `cross-entropy bwd ${a.N}x[${a.v0}, ${a.v0 + a.Vc})`;
  const ld = checkChunk(label, a);
  const { N } = a;
  const row = `(N) = (${N})`;
  const b = resolveBindings(engine, label, [
    { name: 'logits', ref: a.logits, bytes: 4 * ((N - 1) * ld + a.Vc), shape: `(N, ld) = (${N}, ${ld})` },
    { name: 'lse', ref: a.lse, bytes: 4 * N, shape: row },
    { name: 'stats', ref: a.stats, bytes: 4 * CE_STATS_LENGTH, shape: `(${CE_STATS_LENGTH})` },
    { name: 'targets', ref: a.targets, bytes: 4 * N, shape: row },
  ]);
  checkNoAlias(label, b[0], b.slice(1));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'cross_entropy', code: shader, entryPoint: 'ce_backward', layout: BACKWARD, constants: softcapConstant(a),
  });
  const op = await makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: params(a, ld, false, a.dloss ?? 1),
    resources: b, workgroups: flatGrid(engine, Math.ceil((N * a.Vc) / FLAT_WG)),
  });
  return { ...op, setDloss: (d: number) => op.writeUniform(params(a, ld, false, d)) };
}
