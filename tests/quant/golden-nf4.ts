import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bytesSource, openSafetensors } from '../../src/io/safetensors';

export const NF4_GOLDEN = resolve(__dirname, '../fixtures/golden/nf4/nf4.safetensors');

export interface Nf4Golden {
  name: string;
  shape: number[];
  /** (numel) the input */
  x: Float32Array;
  /** (ceil(numel/2)) bitsandbytes' packed codes */
  packed: Uint8Array;
  /** (ceil(numel/64)) */
  absmax: Float32Array;
  /** (numel) */
  dequant: Float32Array;
}

/** The three golden tensors a [8,96], b [5,20], c [3,7]. */
// A plain Uint8Array copy: a Node Buffer's .slice() is a view, which the reader's alignment copy relies on not being.
export async function loadNf4Golden(): Promise<Nf4Golden[]> {
  const file = await openSafetensors(bytesSource(new Uint8Array(readFileSync(NF4_GOLDEN)), 'nf4.safetensors'));
  const out: Nf4Golden[] = [];
  for (const name of ['a', 'b', 'c']) {
    out.push({
      name,
      shape: file.info(name).shape,
      x: await file.readF32(name),
      packed: await file.readRaw(`${name}.packed`),
      absmax: await file.readF32(`${name}.absmax`),
      dequant: await file.readF32(`${name}.dequant`),
    });
  }
  return out;
}

/** Index of the first element where two arrays differ bit for bit (-0 != 0), or -1. */
export function firstBitDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}
