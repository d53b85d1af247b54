/**
 * DoRA's kernels (shaders/dora.wgsl; CPU twin: src/reference/ops/dora.ts):
 *   prepareDoraWeightNorm  norm (Out) = per-row || W + scale B A ||, W decoded from its packed row shards
 *   prepareDoraColScale    out (N, Out) (+)= (m / norm + delta) * inp, column by column
 *   prepareDoraMagGrad     dm (Out) += sum_n dy * t / norm
 */
import body from '../../../shaders/dora.wgsl?raw';
import weightDecode from '../../../shaders/lib/weight_decode.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec } from '../pipelines';
import { checkDims, checkNoAlias, flatGrid, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';
import type { ShardedWeight } from './weights';
import { ELEMENTS_PER_WORD } from '../../reference/quant/packed';

const shader = `${weightDecode}\n${body}`;
const FORMAT_ID = { f32: 0, f16: 1, bf16: 2, int8: 3, nf4: 4 } as const;
const WG = 64;

export interface DoraWeightNormArgs {
  /** (Out) written */
  norm: BufferRef;
  /** (Out, In) in row shards, any storage format */
  weight: ShardedWeight;
  /** (R, In) */
  A: BufferRef;
  /** (Out, R) */
  B: BufferRef;
  R: number;
  scale: number;
  label: string;
}

/** One op per row shard of W, one workgroup per row. */
export async function prepareDoraWeightNorm(engine: Engine, a: DoraWeightNormArgs): Promise<PreparedOp[]> {
  const { rows: Out, cols: In } = a.weight;
  checkDims(a.label, { Out, In, R: a.R });
  const placeholder = await engine.placeholder();
  const ops: PreparedOp[] = [];
  for (const { r0, weight: w } of a.weight.shards) {
    const label = a.weight.shards.length === 1 ? a.label : `${a.label} [${r0}:${r0 + w.rows}]`;
    const numel = w.rows * w.cols;
    const nblocks = Math.ceil(numel / 64);
    const dq = !!w.qabsmax;
    if ((w.format === 'int8' || w.format === 'nf4') && !(w.absmax || (w.qabsmax && w.dq))) {
      throw new RangeError(`${label}: ${w.format} weight needs absmax (or qabsmax + dq)`);
    }
    const scalesRef = w.qabsmax ?? w.absmax ?? placeholder;
    const bindings = resolveBindings(engine, label, [
      { name: 'weight', ref: w.words, bytes: 4 * Math.ceil(numel / ELEMENTS_PER_WORD[w.format]), shape: `(${w.rows}, ${w.cols}) ${w.format}` },
      { name: 'scales', ref: scalesRef, bytes: scalesRef === placeholder ? 16 : dq ? Math.ceil(nblocks / 4) * 4 : 4 * nblocks, shape: `(${nblocks})` },
      { name: 'dq', ref: w.dq ?? placeholder, bytes: dq ? 4 * (257 + Math.ceil(nblocks / 256)) : 16, shape: 'double quant' },
      { name: 'A', ref: a.A, bytes: 4 * a.R * In, shape: `(R, In) = (${a.R}, ${In})` },
      { name: 'B', ref: a.B, bytes: 4 * Out * a.R, shape: `(Out, R) = (${Out}, ${a.R})` },
      { name: 'norm', ref: a.norm, bytes: 4 * Out, shape: `(Out) = (${Out})` },
    ]);
    checkNoAlias(label, bindings[5], bindings.slice(0, 5));
    const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
      label: 'dora_weight_norm', code: shader, entryPoint: 'dora_weight_norm',
      constants: { FORMAT: FORMAT_ID[w.format], DOUBLE_QUANT: dq },
      layout: layoutSpec(['uniform', 'read', 'read', 'read', 'read', 'read', 'rw']),
    });
    ops.push(await makeOp(engine, {
      label, pipeline, layout: bindGroupLayout,
      uniform: uniformBlock([['u', w.rows], ['u', In], ['u', a.R], ['u', r0], ['f', a.scale], ['u', 0], ['u', 0], ['u', 0]]),
      resources: bindings, workgroups: flatGrid(engine, w.rows),
    }));
  }
  return ops;
}

export interface DoraColScaleArgs {
  /** (N, Out) written (or added to with accumulate); not in the buffer of any input */
  out: BufferRef;
  /** (N, Out) */
  inp: BufferRef;
  /** (Out) the magnitude */
  m: BufferRef;
  /** (Out) from prepareDoraWeightNorm */
  norm: BufferRef;
  N: number;
  Out: number;
  /** added to m / norm: 0 or -1 */
  delta: number;
  accumulate: boolean;
  label: string;
}

/** out (N, Out) (+)= (m / norm + delta) * inp, each column o scaled by its own factor. */
export async function prepareDoraColScale(engine: Engine, a: DoraColScaleArgs): Promise<PreparedOp> {
  checkDims(a.label, { N: a.N, Out: a.Out });
  const n = a.N * a.Out;
  const bindings = resolveBindings(engine, a.label, [
    { name: 'm', ref: a.m, bytes: 4 * a.Out, shape: `(Out) = (${a.Out})` },
    { name: 'norm', ref: a.norm, bytes: 4 * a.Out, shape: `(Out) = (${a.Out})` },
    { name: 'inp', ref: a.inp, bytes: 4 * n, shape: `(N, Out) = (${a.N}, ${a.Out})` },
    { name: 'out', ref: a.out, bytes: 4 * n, shape: `(N, Out) = (${a.N}, ${a.Out})` },
  ]);
  checkNoAlias(a.label, bindings[3], bindings.slice(0, 3));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'dora_col_scale', code: shader, entryPoint: 'dora_col_scale', layout: layoutSpec(['uniform', 'read', 'read', 'read', 'rw']),
  });
  return makeOp(engine, {
    label: a.label, pipeline, layout: bindGroupLayout,
    uniform: uniformBlock([['u', a.N], ['u', a.Out], ['f', a.delta], ['f', a.accumulate ? 1 : 0]]),
    resources: bindings, workgroups: flatGrid(engine, Math.ceil(n / WG)),
  });
}

export interface DoraMagGradArgs {
  /** (Out) accumulated into */
  dm: BufferRef;
  /** (N, Out) */
  dy: BufferRef;
  /** (N, Out) xd W^T + scale h B^T */
  t: BufferRef;
  /** (Out) */
  norm: BufferRef;
  N: number;
  Out: number;
  label: string;
}

/** dm (Out) += sum over rows of dy * t / norm (the norm a constant, as PEFT detaches it). */
export async function prepareDoraMagGrad(engine: Engine, a: DoraMagGradArgs): Promise<PreparedOp> {
  checkDims(a.label, { N: a.N, Out: a.Out });
  const n = a.N * a.Out;
  const bindings = resolveBindings(engine, a.label, [
    { name: 'dy', ref: a.dy, bytes: 4 * n, shape: `(N, Out) = (${a.N}, ${a.Out})` },
    { name: 'norm', ref: a.norm, bytes: 4 * a.Out, shape: `(Out) = (${a.Out})` },
    { name: 't', ref: a.t, bytes: 4 * n, shape: `(N, Out) = (${a.N}, ${a.Out})` },
    { name: 'dm', ref: a.dm, bytes: 4 * a.Out, shape: `(Out) = (${a.Out})` },
  ]);
  checkNoAlias(a.label, bindings[3], bindings.slice(0, 3));
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'dora_mag_grad', code: shader, entryPoint: 'dora_mag_grad', layout: layoutSpec(['uniform', 'read', 'read', 'read', 'rw']),
  });
  return makeOp(engine, {
    label: a.label, pipeline, layout: bindGroupLayout,
    uniform: uniformBlock([['u', a.N], ['u', a.Out], ['f', 0], ['f', 0]]),
    resources: bindings, workgroups: flatGrid(engine, Math.ceil(a.Out / WG)),
  });
}
