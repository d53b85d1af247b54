/**
 * Labels sampled from the model's own softmax on the GPU (shaders/sample_labels.wgsl), one vocabulary
 * chunk of the LM head's logits at a time, exactly the draws of `sampleLabels` in
 * src/reference/ops/sample-labels.ts (Gumbel-max over the counter-based RNG of src/core/rng.ts, stream
 * `sampledLabelStream(step, row)`). The last chunk overwrites the valid targets with the labels, so the
 * graph's own cross-entropy backward then gives the gradient of the sampled-label loss: Sophia's
 * Gauss-Newton-Bartlett estimate without a readback.
 */
import rngWgsl from '../../../shaders/lib/rng.wgsl?raw';
import tanhWgsl from '../../../shaders/lib/tanh.wgsl?raw';
import body from '../../../shaders/sample_labels.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec } from '../pipelines';
import { sampledLabelStream, splitU53 } from '../../core/rng';
import { checkDims, checkNoAlias, flatGrid, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp } from './common';

const shader = `${rngWgsl}\n${tanhWgsl}\n${body}`;
const LAYOUT = layoutSpec(['uniform', 'rw', 'rw', 'rw', 'read']);

export interface SampleLabelsChunkArgs {
  /** (N) f32 running best score, (N) u32 running best index: carried from chunk to chunk */
  best: { score: BufferRef; index: BufferRef };
  /** (N, ld), columns [0, Vc) = vocabulary [v0, v0 + Vc), as the LM head writes them */
  logits: BufferRef;
  /** (N) i32 real targets; the last chunk replaces each valid one with its sampled label */
  targets: BufferRef;
  N: number;
  V: number;
  v0: number;
  Vc: number;
  /** row stride of the logits block (default Vc) */
  ld?: number;
  /** the model's final logit softcap, or null */
  softcap?: number | null;
  /** this chunk starts the running best (default v0 === 0) */
  first?: boolean;
  /** this chunk ends the vocabulary and writes the labels (default v0 + Vc === V) */
  last?: boolean;
  /** the run seed */
  seed: number;
  label?: string;
}

export interface PreparedSampleLabels extends PreparedOp {
  /** Draw the noise of optimizer step `step` (0-based) in the next submit. */
  setStep(step: number): void;
}

export async function prepareSampleLabelsChunk(engine: Engine, a: SampleLabelsChunkArgs): Promise<PreparedSampleLabels> {
  const { N, V, v0, Vc } = a;
  const ld = a.ld ?? Vc;
  const label = a.label ?? `sample labels ${N}x[${v0}, ${v0 + Vc})`;
  checkDims(label, { N, V, Vc, ld });
  if (!Number.isSafeInteger(v0) || v0 < 0 || v0 + Vc > V) throw new RangeError(`${label}: chunk [${v0}, ${v0 + Vc}) is outside the vocabulary [0, ${V})`);
  if (ld < Vc) throw new RangeError(`${label}: row stride ld = ${ld} is below the chunk width Vc = ${Vc}`);
  if (v0 % 4) throw new RangeError(`${label}: the chunk must start at a multiple of 4 (one Philox block per 4 entries), got ${v0}`);
  if (N >= 2 ** 24) throw new RangeError(`${label}: ${N} rows exceed the 2^24 the label streams number`);
  if (a.softcap != null && !(Number.isFinite(a.softcap) && a.softcap > 0)) throw new RangeError(`${label}: softcap must be a positive number, got ${a.softcap}`);
  const [seedLo, seedHi] = splitU53('seed', a.seed);
  const row = `(N) = (${N})`;
  const b = resolveBindings(engine, label, [
    { name: 'bestScore', ref: a.best.score, bytes: 4 * N, shape: row },
    { name: 'bestIndex', ref: a.best.index, bytes: 4 * N, shape: row },
    { name: 'targets', ref: a.targets, bytes: 4 * N, shape: row },
    { name: 'logits', ref: a.logits, bytes: 4 * ((N - 1) * ld + Vc), shape: `(N, ld) = (${N}, ${ld})` },
  ]);
  for (const out of b.slice(0, 3)) checkNoAlias(label, out, [...b.slice(0, 3).filter((x) => x !== out), b[3]]);
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'sample_labels', code: shader, entryPoint: 'sample_chunk', layout: LAYOUT, constants: a.softcap != null ? { SOFTCAP: a.softcap } : {},
  });
  const first = a.first ?? v0 === 0;
  const last = a.last ?? v0 + Vc === V;
  const uniform = (step: number) => {
    // sampledLabelStream(step, 0) = 5 * 2^48 + step * 2^24: its two words; the row fills the low 24 bits.
    const [lo, hi] = splitU53('stream', sampledLabelStream(step, 0));
    return uniformBlock([
      ['u', N], ['u', V], ['u', v0], ['u', Vc], ['u', ld], ['u', first ? 1 : 0], ['u', last ? 1 : 0],
      ['u', seedLo], ['u', seedHi], ['u', lo], ['u', hi], ['u', 0],
    ]);
  };
  const op = await makeOp(engine, { label, pipeline, layout: bindGroupLayout, uniform: uniform(0), resources: b, workgroups: flatGrid(engine, N) });
  return { ...op, setStep: (step: number) => op.writeUniform(uniform(step)) };
}
