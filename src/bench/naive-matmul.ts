/**
 * The naive matmul of src/bench/naive_matmul.wgsl as a prepared op, with the same arguments as
 * prepareMatmul (no alpha, no accumulate): the floor the benchmark measures our kernel against.
 */
import shader from './naive_matmul.wgsl?raw';
import type { Engine } from '../engine/context';
import { layoutSpec } from '../engine/pipelines';
import { makeOp, resolveBindings, uniformBlock, type PreparedOp } from '../engine/kernels/common';
import type { MatmulArgs } from '../engine/kernels/matmul';

const LAYOUT = layoutSpec(['uniform', 'read', 'read', 'rw']);

export async function prepareNaiveMatmul(engine: Engine, args: Omit<MatmulArgs, 'alpha' | 'accumulate'>): Promise<PreparedOp> {
  const { M, N, K } = args;
  const label = args.label ?? `naive matmul ${M}x${N}x${K}`;
  const bindings = resolveBindings(engine, label, [
    { name: 'a', ref: args.a, bytes: 4 * M * K, shape: `${M}x${K}` },
    { name: 'b', ref: args.b, bytes: 4 * K * N, shape: `${K}x${N}` },
    { name: 'out', ref: args.out, bytes: 4 * M * N, shape: `${M}x${N}` },
  ]);
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'naive_matmul', code: shader, entryPoint: 'main',
    constants: { TRANS_A: !!args.transA, TRANS_B: !!args.transB }, layout: LAYOUT,
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: uniformBlock([['u', M], ['u', N], ['u', K]]),
    resources: bindings, workgroups: [Math.ceil(N / 16), Math.ceil(M / 16), 1],
  });
}
