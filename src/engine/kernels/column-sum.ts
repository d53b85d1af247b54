/**
 * Column sums (shaders/column_sum.wgsl), as src/reference/ops/column-sum.ts:
 *   out (C) (+)= sum over the N rows of inp (N, C)
 * Full finetuning's bias gradient, d b = sum over the tokens of dy. The order of the additions is
 * fixed (row slices of a workgroup, then the slices in order; no atomics), so a run is reproducible.
 */
import body from '../../../shaders/column_sum.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec } from '../pipelines';
import { checkDims, checkNoAlias, flatGrid, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';

const LAYOUT = layoutSpec(['uniform', 'read', 'rw']);
/** Columns per workgroup (the shader's TC). */
const TC = 16;

export interface ColumnSumArgs {
  /** (C) */
  out: BufferRef;
  /** (N, C) */
  inp: BufferRef;
  N: number;
  C: number;
  /** out += (default: gradients accumulate over micro-batches) or out = */
  accumulate?: boolean;
  label?: string;
}

export async function prepareColumnSum(engine: Engine, a: ColumnSumArgs): Promise<PreparedOp> {
  const { N, C } = a;
  const label = a.label ?? `column sum ${N}x${C}`;
  checkDims(label, { N, C });
  const [inp, out] = resolveBindings(engine, label, [
    { name: 'inp', ref: a.inp, bytes: 4 * N * C, shape: `(N, C) = (${N}, ${C})` },
    { name: 'out', ref: a.out, bytes: 4 * C, shape: `(C) = (${C})` },
  ]);
  checkNoAlias(label, out, [inp]);
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'column_sum', code: body, entryPoint: 'column_sum', layout: LAYOUT,
    constants: { TC, ACCUMULATE: a.accumulate ?? true },
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout,
    uniform: uniformBlock([['u', N], ['u', C], ['u', 0], ['u', 0]]),
    resources: [inp, out], workgroups: flatGrid(engine, Math.ceil(C / TC)),
  });
}
