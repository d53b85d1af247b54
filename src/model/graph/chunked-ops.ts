/**
 * Flat per-element ops (the optimizer step, zeroing the gradients) over the LoRA state's chunks:
 * one prepared op per chunk, encoded together as one. With a single chunk (the usual case) the op
 * is exactly the chunk's op, label included.
 */
import type { PreparedOp } from '../../engine/kernels/common';
import type { PreparedOptimizer } from '../../engine/kernels/optim';
import type { LoraState } from './lora-state';

/** One chunk of the state: its element count, its buffers, and a label that names it when there are several. */
export interface StateChunk {
  n: number;
  param: GPUBuffer; //     (n)
  grad: GPUBuffer; //      (n)
  moments: GPUBuffer[]; // (n) each
  label(kind: string): string;
}

/** Prepare `make` for every chunk of the state, one after another (allocation order stays deterministic). */
export async function perChunk<T>(state: LoraState, make: (c: StateChunk) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (const [i, c] of state.chunks.entries()) {
    out.push(await make({
      n: c.length, param: state.params.buffers[i], grad: state.grads.buffers[i], moments: state.moments.map((m) => m.buffers[i]),
      label: (kind) => (state.chunks.length > 1 ? `${kind} [${c.start}:${c.start + c.length}]` : kind),
    }));
  }
  return out;
}

/** Ops run one after another as one op. */
export function sequence(ops: PreparedOp[]): PreparedOp {
  if (ops.length === 1) return ops[0];
  return {
    label: ops.map((o) => o.label).join(', '),
    workgroups: ops[0].workgroups,
    encode: (pass) => ops.forEach((o) => o.encode(pass)),
    writeUniform: () => {
      throw new Error(`${ops[0].label}: a chunked op takes no uniform; set each chunk's`);
    },
    destroy: () => ops.forEach((o) => o.destroy()),
  };
}

/** One optimizer over every chunk: setStep writes each chunk's hyper-parameters. */
export function sequenceOptimizers<H>(ops: PreparedOptimizer<H>[]): PreparedOptimizer<H> {
  if (ops.length === 1) return ops[0];
  return { ...sequence(ops), setStep: (step, hp) => ops.forEach((o) => o.setStep(step, hp)) };
}
