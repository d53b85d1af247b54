/**
 * Generic f32 matmul (shaders/matmul.wgsl), for LoRA and other small products:
 *   out (M, N) = alpha * op(a) op(b)  (+ out when `accumulate`, e.g. gradient accumulation)
 *   a (M, K), or (K, M) with transA;  b (K, N), or (N, K) with transB.
 * Prepare once per run (pipeline from the cache, bind group, uniform buffer), encode every step.
 */
import shader from '../../../shaders/matmul.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec } from '../pipelines';
import {
  checkDims, checkNoAlias, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp,
} from './common';

export const MATMUL_TILE = { M: 64, N: 64, K: 16 } as const;
const LAYOUT = layoutSpec(['uniform', 'read', 'read', 'rw']);

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
  label?: string;
}

/** Flat index math of the vec4 entry point needs the contiguous dimension of each input % 4 == 0. */
export function matmulUsesVec4(a: Pick<MatmulArgs, 'M' | 'N' | 'K' | 'transA' | 'transB'>): boolean {
  const aRow = a.transA ? a.M : a.K;
  const bRow = a.transB ? a.K : a.N;
  return aRow % 4 === 0 && bRow % 4 === 0;
}

export async function prepareMatmul(engine: Engine, args: MatmulArgs): Promise<PreparedOp & { setAlpha(alpha: number): void }> {
  const { M, N, K } = args;
  const label = args.label ?? `matmul ${M}x${N}x${K}`;
  checkDims(label, { M, N, K });
  const [a, b, out] = resolveBindings(engine, label, [
    { name: 'a', ref: args.a, bytes: 4 * M * K, shape: args.transA ? `(K, M) = (${K}, ${M})` : `(M, K) = (${M}, ${K})` },
    { name: 'b', ref: args.b, bytes: 4 * K * N, shape: args.transB ? `(N, K) = (${N}, ${K})` : `(K, N) = (${K}, ${N})` },
    { name: 'out', ref: args.out, bytes: 4 * M * N, shape: `(M, N) = (${M}, ${N})` },
  ]);
  checkNoAlias(label, out, [a, b]);

  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'matmul',
    code: shader,
    entryPoint: matmulUsesVec4(args) ? 'main_vec4' : 'main',
    constants: { TRANS_A: !!args.transA, TRANS_B: !!args.transB },
    layout: LAYOUT,
  });
  const beta = args.accumulate ? 1 : 0;
  const params = (alpha: number) => uniformBlock([['u', M], ['u', N], ['u', K], ['u', 0], ['f', alpha], ['f', beta]]);
  const op = await makeOp(engine, {
    label, pipeline, layout: bindGroupLayout,
    uniform: params(args.alpha ?? 1),
    resources: [a, b, out],
    workgroups: [Math.ceil(N / MATMUL_TILE.N), Math.ceil(M / MATMUL_TILE.M), 1],
  });
  return { ...op, setAlpha: (alpha: number) => op.writeUniform(params(alpha)) };
}
