/**
 * Generic f32 matmul (shaders/matmul.wgsl), for LoRA and other small products:
 *   out (M, N) = alpha * op(a) op(b)  (+ out when `accumulate`, e.g. gradient accumulation)
 *   a (M, K), or (K, M) with transA;  b (K, N), or (N, K) with transB.
 * `lda` lets a be a block of columns of a wider matrix (full finetuning's dW of a row shard reads
 * the shard's columns of dy (tokens, out)): its stored rows lie lda elements apart.
 * Prepare once per run (pipeline from the cache, bind group, uniform buffer), encode every step.
 */
import body from '../../../shaders/matmul.wgsl?raw';
import registerBlock from '../../../shaders/lib/register_block.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec } from '../pipelines';
import {
  checkDims, checkNoAlias, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp,
} from './common';

/** The module: the shared 8 x 8 register block, then this kernel. */
const shader = `${registerBlock}\n${body}`;

const LAYOUT = layoutSpec(['uniform', 'read', 'read', 'rw']);

/**
 * Invocations along N and M of a workgroup; each computes an 8 x 8 block, so the tile of C is
 * (8 WY) x (8 WX). 8 x 8 (64 x 64 tiles) unless M or N is narrow (a LoRA rank), where the narrow
 * side gets just enough invocations and the other side 16 (128-wide tiles), e.g. N = 8: 128 x 8.
 */
export function matmulWorkgroup(M: number, N: number): { WX: number; WY: number } {
  const fit = (d: number) => (d <= 8 ? 1 : d <= 16 ? 2 : d <= 32 ? 4 : 8);
  const WX = fit(N);
  const WY = fit(M);
  if (WX === 8 && WY < 8) return { WX: 16, WY };
  if (WY === 8 && WX < 8) return { WX, WY: 16 };
  return { WX, WY };
}

export interface MatmulArgs {
  /** (M, N) */
  out: BufferRef;
  /** (M, K), or (K, M) when transA */
  a: BufferRef;
  /** (K, N), or (N, K) when transB */
  b: BufferRef;
  M: number;
  N: number;
  K: number;
  transA?: boolean;
  transB?: boolean;
  /** Scale of the product (default 1). */
  alpha?: number;
  /** Add to `out` (beta = 1) instead of overwriting it (beta = 0). */
  accumulate?: boolean;
  /** Elements between a's stored rows (default its row length: K, or M with transA). */
  lda?: number;
  label?: string;
}

/** Flat index math of the vec4 entry point needs the contiguous dimension of each input % 4 == 0. */
export function matmulUsesVec4(a: Pick<MatmulArgs, 'M' | 'N' | 'K' | 'transA' | 'transB' | 'lda'>): boolean {
  const aRow = a.transA ? a.M : a.K;
  const bRow = a.transB ? a.K : a.N;
  return aRow % 4 === 0 && bRow % 4 === 0 && (a.lda ?? aRow) % 4 === 0;
}

export async function prepareMatmul(engine: Engine, args: MatmulArgs): Promise<PreparedOp & { setAlpha(alpha: number): void }> {
  const { M, N, K } = args;
  const label = args.label ?? `matmul ${M}x${N}x${K}`;
  checkDims(label, { M, N, K });
  // a as stored: `rows` rows of `row` elements, lda apart.
  const [rows, row] = args.transA ? [K, M] : [M, K];
  const lda = args.lda ?? row;
  if (!Number.isInteger(lda) || lda < row) throw new RangeError(`${label}: lda ${lda} must be an integer of at least a's row length ${row}`);
  const stride = lda !== row ? ` row stride ${lda}` : '';
  const [a, b, out] = resolveBindings(engine, label, [
    { name: 'a', ref: args.a, bytes: 4 * ((rows - 1) * lda + row), shape: (args.transA ? `(K, M) = (${K}, ${M})` : `(M, K) = (${M}, ${K})`) + stride },
    { name: 'b', ref: args.b, bytes: 4 * K * N, shape: args.transB ? `(N, K) = (${N}, ${K})` : `(K, N) = (${K}, ${N})` },
    { name: 'out', ref: args.out, bytes: 4 * M * N, shape: `(M, N) = (${M}, ${N})` },
  ]);
  checkNoAlias(label, out, [a, b]);
  const wg = matmulWorkgroup(M, N);

  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'matmul',
    code: shader,
    entryPoint: matmulUsesVec4(args) ? 'main_vec4' : 'main',
    constants: { TRANS_A: !!args.transA, TRANS_B: !!args.transB, WX: wg.WX, WY: wg.WY },
    layout: LAYOUT,
  });
  const beta = args.accumulate ? 1 : 0;
  const params = (alpha: number) => uniformBlock([['u', M], ['u', N], ['u', K], ['u', lda], ['f', alpha], ['f', beta]]);
  const op = await makeOp(engine, {
    label, pipeline, layout: bindGroupLayout,
    uniform: params(args.alpha ?? 1),
    resources: [a, b, out],
    workgroups: [Math.ceil(N / (8 * wg.WX)), Math.ceil(M / (8 * wg.WY)), 1],
  });
  return { ...op, setAlpha: (alpha: number) => op.writeUniform(params(alpha)) };
}
