/**
 * Inverted dropout on a LoRA input with the in-shader Philox RNG (shaders/dropout.wgsl):
 *   out (n) = inp (n) * mask / (1 - p)          forward: xd = dropout(x)
 *   out (n) += inp (n) * mask / (1 - p)         backward (`accumulate`): dx += dropout'(dxd)
 *   mask[j] = uniform(seed, stream, j) >= p     j = flat element index (N * K for an (N, K) input)
 * `elementOffset` e0 runs the op on elements [e0, e0 + n) of a longer stream (rows of a token-row
 * chunk): inp and out hold those n elements, and the mask is the whole input's, at j = e0 + i.
 * The mask is never stored: the backward recomputes it from the same (seed, stream). The CPU twin is
 * `dropoutMask` in src/core/rng.ts; the stream comes from `dropoutStream(step, micro, layer, module)`.
 *
 * WGSL has no includes, so the shader is shaders/lib/rng.wgsl followed by shaders/dropout.wgsl: the one
 * place where the project joins two WGSL sources (the RNG must be the same code wherever it is used).
 */
import rngWgsl from '../../../shaders/lib/rng.wgsl?raw';
import dropoutWgsl from '../../../shaders/dropout.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec } from '../pipelines';
import { dropoutThreshold, splitU53 } from '../../core/rng';
import {
  checkDims, checkNoAlias, flatGrid, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp,
} from './common';

/** rng.wgsl + dropout.wgsl (see the header). */
export const DROPOUT_SHADER = `${rngWgsl}\n${dropoutWgsl}`;
/** Threads per workgroup; each thread handles one Philox block of 4 elements. */
export const DROPOUT_WG = 64;
const ELEMENTS_PER_GROUP = 4 * DROPOUT_WG;
const LAYOUT = layoutSpec(['uniform', 'read', 'rw']);

export interface DropoutArgs {
  /** (n): written, or added to with `accumulate` */
  out: BufferRef;
  /** (n), e.g. the LoRA input x (N, K) flattened, or the gradient of the dropped input */
  inp: BufferRef;
  /** Elements (N * K). */
  n: number;
  /** Drop probability in [0, 1); 0 copies (or adds) `inp` unchanged. */
  p: number;
  /** Run seed, an integer in [0, 2^53). */
  seed: number;
  /** Stream, an integer in [0, 2^53); usually `dropoutStream(...)`. Change per step with `setStream`. */
  stream: number;
  /** Add onto `out` instead of overwriting it (the backward into an accumulated dx). */
  accumulate?: boolean;
  /** Index in the RNG stream of the first element (a multiple of 4, one Philox block); default 0. */
  elementOffset?: number;
  label?: string;
}

export interface PreparedDropout extends PreparedOp {
  /**
   * Rewrite the uniform with a new stream (queue.writeBuffer: it applies to the next submit, so a
   * trainer submits each micro-batch before switching to the next micro-batch's stream).
   */
  setStream(stream: number): void;
  /** Off: an exact copy (or add), e.g. for validation, where dropout does not apply. */
  setEnabled(on: boolean): void;
}

export async function prepareDropout(engine: Engine, args: DropoutArgs): Promise<PreparedDropout> {
  const { n, p } = args;
  const label = args.label ?? `dropout n=${n} p=${p}${args.accumulate ? ' +=' : ''}`;
  checkDims(label, { n });
  if (n >= 2 ** 30) throw new RangeError(`${label}: n = ${n} must be below 2^30`);
  const e0 = args.elementOffset ?? 0;
  if (!Number.isSafeInteger(e0) || e0 < 0 || e0 % 4 || (e0 + n) / 4 > 2 ** 32) {
    throw new RangeError(`${label}: elementOffset ${e0} must be a multiple of 4 with (elementOffset + n) / 4 at most 2^32`);
  }
  const threshold = dropoutThreshold(p);
  const scale = 1 / (1 - p);
  const [seedLo, seedHi] = splitU53('seed', args.seed);
  const [inp, out] = resolveBindings(engine, label, [
    { name: 'inp', ref: args.inp, bytes: 4 * n, shape: `(n) = (${n})` },
    { name: 'out', ref: args.out, bytes: 4 * n, shape: `(n) = (${n})` },
  ]);
  checkNoAlias(label, out, [inp]);

  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'dropout',
    code: DROPOUT_SHADER,
    entryPoint: 'dropout',
    constants: { ACCUMULATE: !!args.accumulate },
    layout: LAYOUT,
  });
  const workgroups = flatGrid(engine, Math.ceil(n / ELEMENTS_PER_GROUP));
  let stream = args.stream;
  let enabled = true;
  const params = () => {
    const [s0, s1] = splitU53('stream', stream);
    return uniformBlock([
      ['u', n], ['u', enabled ? threshold : 0], ['f', enabled ? scale : 1], ['u', workgroups[0]],
      ['u', seedLo], ['u', seedHi], ['u', s0], ['u', s1], ['u', e0 / 4],
    ]);
  };
  const op = await makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: params(), resources: [inp, out], workgroups,
  });
  return {
    ...op,
    setStream: (s: number) => {
      stream = s;
      op.writeUniform(params());
    },
    setEnabled: (on: boolean) => {
      enabled = on;
      op.writeUniform(params());
    },
  };
}
