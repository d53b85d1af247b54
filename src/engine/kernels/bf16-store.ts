/**
 * Saved activations stored as bf16 (shaders/bf16_store.wgsl; the CPU side is roundToBf16 in
 * src/reference/ops/bf16-store.ts). The graph keeps an f32 working buffer of n values per activation
 * and, per layer, a packed copy of ceil(n / 2) u32 words (two bf16 each, element 2w in the low half):
 *   prepareBf16Store  packed = bf16(values), values unchanged   (the forward keeps a layer's activations)
 *   prepareBf16Load   values = f32(packed)                      (the backward refills the working buffer)
 *   prepareBf16Round  values = f32(bf16(values)) in place       (what the backward reads without a stored copy)
 */
import body from '../../../shaders/bf16_store.wgsl?raw';
import type { Engine } from '../context';
import { layoutSpec, type LayoutSpec } from '../pipelines';
import {
  checkDims, flatGrid, FLAT_WG, makeOp, resolveBindings, uniformBlock, type BindingSpec, type BufferRef, type PreparedOp,
} from './common';

type Entry = 'bf16_store' | 'bf16_load' | 'bf16_round';
const LAYOUTS: Record<Entry, LayoutSpec> = {
  bf16_store: layoutSpec(['uniform', 'read', 'rw']),
  bf16_load: layoutSpec(['uniform', 'rw', 'read']),
  bf16_round: layoutSpec(['uniform', 'rw']),
};

/** Bytes of the packed bf16 copy of n values: ceil(n / 2) words. */
export function bf16PackedBytes(n: number): number {
  return 4 * Math.ceil(n / 2);
}

async function prepare(engine: Engine, entry: Entry, label: string, n: number, specs: BindingSpec[]): Promise<PreparedOp> {
  checkDims(label, { n });
  const bindings = resolveBindings(engine, label, specs);
  if (bindings.length > 1 && bindings[0].buffer === bindings[1].buffer) throw new RangeError(`${label}: values and packed share buffer '${bindings[0].buffer.label}'`);
  const { pipeline, bindGroupLayout } = await engine.pipelines.compute({
    label: 'bf16_store', code: body, entryPoint: entry, layout: LAYOUTS[entry],
  });
  return makeOp(engine, {
    label, pipeline, layout: bindGroupLayout, uniform: uniformBlock([['u', n]]),
    resources: bindings, workgroups: flatGrid(engine, Math.ceil(Math.ceil(n / 2) / FLAT_WG)),
  });
}

export interface Bf16Args {
  /** (n) f32 working buffer */
  values: BufferRef;
  /** (ceil(n / 2)) u32: the packed bf16 copy; must not share a buffer with values */
  packed: BufferRef;
  n: number;
  label?: string;
}

const valuesSpec = (a: { values: BufferRef; n: number }): BindingSpec => ({ name: 'values', ref: a.values, bytes: 4 * a.n, shape: `(n) = (${a.n})` });
const packedSpec = (a: Bf16Args): BindingSpec => ({ name: 'packed', ref: a.packed, bytes: bf16PackedBytes(a.n), shape: `(ceil(n / 2)) = (${Math.ceil(a.n / 2)})` });

/** packed = bf16(values), round to nearest even; values are not changed. */
export function prepareBf16Store(engine: Engine, a: Bf16Args): Promise<PreparedOp> {
  const label = a.label ?? `bf16 store ${a.n}`;
  return prepare(engine, 'bf16_store', label, a.n, [valuesSpec(a), packedSpec(a)]);
}

/** values = f32(packed), exactly. */
export function prepareBf16Load(engine: Engine, a: Bf16Args): Promise<PreparedOp> {
  const label = a.label ?? `bf16 load ${a.n}`;
  return prepare(engine, 'bf16_load', label, a.n, [valuesSpec(a), packedSpec(a)]);
}

/** values = bf16(values) in place. */
export function prepareBf16Round(engine: Engine, a: { values: BufferRef; n: number; label?: string }): Promise<PreparedOp> {
  return prepare(engine, 'bf16_round', a.label ?? `bf16 round ${a.n}`, a.n, [valuesSpec(a)]);
}
