/**
 * Adafactor over one flat parameter buffer holding several tensors (shaders/adafactor.wgsl), exactly
 * `src/reference/adafactor.ts` (transformers' Adafactor with relative_step=False and an explicit lr)
 * tensor by tensor, on the gradient g = grad * gradScale * clipCoef (clipCoef = stats[2] of the
 * grad-norm kernel; a step whose stats[3] says non-finite changes nothing).
 *
 * The second moment of all tensors lives in one buffer `sq` (F), each tensor's at the offset
 * `adafactorTable` assigns, in table order: rows then columns for a 2-D tensor, one value per
 * element for a 1-D one. The op owns two small buffers of its own, counted as optimizer memory:
 * the tensor table (T, 8) u32 and the per-tensor statistics (T, 4) f32.
 */
import shader from '../../../shaders/adafactor.wgsl?raw';
import type { Engine } from '../context';
import { BufferUsage } from '../flags';
import { layoutSpec } from '../pipelines';
import { uploadBuffer } from '../upload';
import type { AdafactorParams } from '../../reference/adafactor';
import { adafactorStateLength } from '../../reference/adafactor';
import {
  checkDims, checkNoAlias, flatGrid, makeOp, resolveBindings, uniformBlock, type BufferRef, type PreparedOp,
} from './common';
import { GRAD_STATS_BYTES } from './grad-norm';
import type { PreparedOptimizer } from './optim';

export type { AdafactorParams };
const WG = 256;
/** u32 words per table entry (struct Tensor in adafactor.wgsl). */
const ENTRY_WORDS = 8;

/** One tensor of the flat buffer: its first element and its shape, [rows, cols] (factored) or [n]. */
export interface AdafactorTensor {
  offset: number;
  shape: readonly number[];
}

export interface AdafactorTable {
  /** (T, 8) u32: offset, rows, cols, acc offset, first line, factored, 0, 0 */
  entries: Uint32Array<ArrayBuffer>;
  tensors: number;
  /** invocations of the moments pass: rows + cols per 2-D tensor, n per 1-D one */
  lines: number;
  /** F: second-moment values of all tensors */
  stateLength: number;
}

/** The table of `tensors` inside a flat buffer of `n` elements: sorted, disjoint, inside [0, n). */
export function adafactorTable(tensors: readonly AdafactorTensor[], n: number, label = 'adafactor'): AdafactorTable {
  if (!tensors.length) throw new RangeError(`${label}: no tensors to optimize`);
  const entries = new Uint32Array(ENTRY_WORDS * tensors.length);
  let acc = 0;
  let lines = 0;
  let end = 0;
  tensors.forEach((t, i) => {
    const size = t.shape.reduce((a, b) => a * b, 1);
    const factored = t.shape.length === 2;
    const stateLength = adafactorStateLength(t.shape);
    if (!Number.isSafeInteger(t.offset) || t.offset < end || t.offset + size > n) {
      throw new RangeError(`${label}: tensor ${i} [${t.shape.join(', ')}] at ${t.offset} overlaps the one before it or leaves the buffer of ${n}`);
    }
    const rows = factored ? t.shape[0] : 1;
    const cols = factored ? t.shape[1] : t.shape[0];
    entries.set([t.offset, rows, cols, acc, lines, factored ? 1 : 0, 0, 0], ENTRY_WORDS * i);
    acc += stateLength;
    lines += stateLength; // one line per accumulator
    end = t.offset + size;
  });
  if (acc >= 2 ** 32 || n >= 2 ** 32) throw new RangeError(`${label}: more than 2^32 elements`);
  return { entries, tensors: tensors.length, lines, stateLength: acc };
}

export interface AdafactorArgs {
  /** (n) updated in place */
  param: BufferRef;
  /** (n) read */
  grad: BufferRef;
  n: number;
  /** where the tensors lie in param and grad */
  tensors: readonly AdafactorTensor[];
  /** (F) second moments in table order, zero before step 1 */
  sq: BufferRef;
  /** (n) first moment when beta1 is used, zero before step 1; null: none (the hyper-parameters must agree) */
  m: BufferRef | null;
  /** (8) the grad-norm stats (clip coefficient, non-finite flag); null: coefficient 1, never skip */
  stats: BufferRef | null;
  /** gradient multiplier, e.g. 1 / accumulation steps (default 1) */
  gradScale?: number;
  label?: string;
}

const MOMENTS = layoutSpec(['uniform', 'rw', 'read', 'read', 'read']);
const STATS = layoutSpec(['uniform', 'rw', 'read', 'read', 'read', 'read', 'read']);
const APPLY = layoutSpec(['uniform', 'rw', 'rw', 'read', 'read', 'read', 'read', 'read']);

/** Adafactor over the tensors of (n) parameters; call `setStep(t, hp)` before each step's submit. */
export async function prepareAdafactor(engine: Engine, a: AdafactorArgs): Promise<PreparedOptimizer<AdafactorParams>> {
  const { n } = a;
  const label = a.label ?? `adafactor n=${n}`;
  checkDims(label, { n });
  const gradScale = a.gradScale ?? 1;
  if (!Number.isFinite(gradScale)) throw new RangeError(`${label}: gradScale must be finite, got ${gradScale}`);
  const table = adafactorTable(a.tensors, n, label);
  const T = table.tensors;
  const F = table.stateLength;
  const tableBuffer = await uploadBuffer(engine.pool, table.entries, { category: 'optimizer', label: `${label}:tensors (${T}, ${ENTRY_WORDS})` });
  const tstats = await engine.pool.alloc({ size: 16 * T, usage: BufferUsage.STORAGE, category: 'optimizer', label: `${label}:tensor stats (${T}, 4)` });
  // Without a first moment the apply pass still binds one (read-write, so not the shared placeholder).
  const noM = a.m ? null : await engine.pool.alloc({ size: 16, usage: BufferUsage.STORAGE, category: 'optimizer', label: `${label}:no first moment (4)` });
  const owned = [tableBuffer, tstats, ...(noM ? [noM] : [])];
  const ops: PreparedOp[] = [];
  try {
    const statsRef = a.stats ?? (await engine.placeholder());
    const mRef = a.m ?? noM!;
    const shape = `(n) = (${n})`;
    const [param, grad, sq, m, stats, tab, ts] = resolveBindings(engine, label, [
      { name: 'param', ref: a.param, bytes: 4 * n, shape },
      { name: 'grad', ref: a.grad, bytes: 4 * n, shape },
      { name: 'sq', ref: a.sq, bytes: 4 * F, shape: `(F) = (${F})` },
      { name: 'm', ref: mRef, bytes: a.m ? 4 * n : 16, shape },
      { name: 'stats', ref: statsRef, bytes: a.stats ? GRAD_STATS_BYTES : 16, shape: '(8)' },
      { name: 'tensors', ref: tableBuffer, bytes: 4 * ENTRY_WORDS * T, shape: `(${T}, ${ENTRY_WORDS})` },
      { name: 'tensorStats', ref: tstats, bytes: 16 * T, shape: `(${T}, 4)` },
    ]);
    const written = a.m ? [param, sq, m] : [param, sq];
    for (const w of written) checkNoAlias(label, w, [grad, stats, ...written.filter((x) => x !== w)]);
    const pipe = (entryPoint: string, layout: typeof MOMENTS) => engine.pipelines.compute({ label: 'adafactor', code: shader, entryPoint, layout });
    const [pm, ps, pa] = await Promise.all([pipe('adafactor_moments', MOMENTS), pipe('adafactor_stats', STATS), pipe('adafactor_apply', APPLY)]);
    const grids = [flatGrid(engine, Math.ceil(table.lines / WG)), flatGrid(engine, T), flatGrid(engine, Math.ceil(n / WG))];
    const uniform = (groupsX: number, hp: AdafactorParams | null, step: number) => {
      const beta2t = hp ? 1 - Math.pow(step, hp.decayRate) : 0;
      return uniformBlock([
        ['u', T], ['u', table.lines], ['u', n], ['u', groupsX],
        ['u', a.stats ? 1 : 0], ['f', gradScale], ['f', beta2t], ['f', 1 - beta2t],
        ['f', hp?.eps1 ?? 0], ['f', hp?.eps2 ?? 0], ['f', hp?.clipThreshold ?? 1], ['f', hp?.lr ?? 0],
        ['f', hp?.weightDecay ?? 0], ['f', hp?.beta1 ?? 0], ['f', 1 - (hp?.beta1 ?? 0)], ['u', a.m ? 1 : 0],
        ['u', hp?.scaleParameter ? 1 : 0], ['u', 0], ['u', 0], ['u', 0],
      ]);
    };
    ops.push(await makeOp(engine, { label: `${label}:moments`, pipeline: pm.pipeline, layout: pm.bindGroupLayout, workgroups: grids[0], uniform: uniform(grids[0][0], null, 1), resources: [sq, grad, stats, tab] }));
    ops.push(await makeOp(engine, { label: `${label}:stats`, pipeline: ps.pipeline, layout: ps.bindGroupLayout, workgroups: grids[1], uniform: uniform(grids[1][0], null, 1), resources: [ts, sq, grad, param, stats, tab] }));
    ops.push(await makeOp(engine, { label: `${label}:apply`, pipeline: pa.pipeline, layout: pa.bindGroupLayout, workgroups: grids[2], uniform: uniform(grids[2][0], null, 1), resources: [param, m, grad, sq, ts, stats, tab] }));
    let ready = false; // the zero uniform would leave every step undefined: setStep must come first
    return {
      label,
      workgroups: grids[2],
      encode(pass) {
        if (!ready) throw new Error(`${label}: call setStep(step, hp) before encoding the first step`);
        for (const op of ops) op.encode(pass);
      },
      writeUniform() {
        throw new Error(`${label}: Adafactor takes setStep(step, hp), not a raw uniform`);
      },
      setStep(step, hp) {
        if (!Number.isSafeInteger(step) || step < 1) throw new RangeError(`${label}: step is 1-based, got ${step}`);
        if ((hp.beta1 === null) !== (a.m === null)) throw new RangeError(`${label}: beta1 ${hp.beta1} needs a first-moment buffer exactly when it is set`);
        ops.forEach((op, i) => op.writeUniform(uniform(grids[i][0], hp, step)));
        ready = true;
      },
      destroy() {
        for (const op of ops) op.destroy();
        for (const b of owned) engine.pool.destroy(b);
      },
    };
  } catch (e) {
    for (const op of ops) op.destroy();
    for (const b of owned) engine.pool.destroy(b);
    throw e;
  }
}
