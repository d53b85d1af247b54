import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesSource, openSafetensors } from '../../io/safetensors';
import { BadFileError } from '../../core/errors';
import { dequantizeNf4, NF4_BLOCK, NF4_CODEBOOK, quantizeNf4 } from '../../reference/quant/nf4';
import { parseCliArgs } from '../args';

/** Index of the first element where two arrays differ bit for bit (-0 != 0), or -1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

/**
 * `nf4 <dir>`: quantize every tensor X of `<dir>/nf4.safetensors` that has `X.packed`, `X.absmax`
 * and `X.dequant`, and require codes, absmax and dequantized values to match bitsandbytes exactly.
 */
export async function runNf4(argv: string[]): Promise<number> {
  const { positionals } = parseCliArgs(argv, {}, 1);
  const dir = positionals[0];
  const spec = JSON.parse(await readFile(join(dir, 'nf4.json'), 'utf8')) as { codebook: number[]; blocksize: number };
  let failed = 0;
  const codebookOk = spec.codebook.length === 16 && spec.codebook.every((v, i) => Math.fround(v) === NF4_CODEBOOK[i]);
  const blockOk = spec.blocksize === NF4_BLOCK;
  console.log(`${codebookOk ? 'ok  ' : 'FAIL'} codebook (16 values)`);
  console.log(`${blockOk ? 'ok  ' : 'FAIL'} block size ${spec.blocksize}`);
  if (!codebookOk || !blockOk) failed++;

  const path = join(dir, 'nf4.safetensors');
  const file = await openSafetensors(bytesSource(new Uint8Array(await readFile(path)), path));
  const names = file.names().filter((n) => !n.includes('.') && file.has(`${n}.packed`) && file.has(`${n}.absmax`) && file.has(`${n}.dequant`));
  if (names.length === 0) throw new BadFileError(path, 'holds no tensor X with X.packed, X.absmax and X.dequant');
  for (const name of names) {
    const q = quantizeNf4(await file.readF32(name));
    const checks: [string, ArrayLike<number>, ArrayLike<number>][] = [
      ['codes', q.codes, await file.readRaw(`${name}.packed`)],
      ['absmax', q.absmax, await file.readF32(`${name}.absmax`)],
      ['dequant', dequantizeNf4(q), await file.readF32(`${name}.dequant`)],
    ];
    for (const [what, got, want] of checks) {
      const i = firstDifference(got, want);
      if (i >= 0) failed++;
      const detail = i < 0 ? `${want.length} values identical` : `first difference at ${i}: got ${got[i]} want ${want[i]} (lengths ${got.length}/${want.length})`;
      console.log(`${i < 0 ? 'ok  ' : 'FAIL'} ${`${name} [${file.info(name).shape.join(', ')}] ${what}`.padEnd(28)} ${detail}`);
    }
  }
  console.log(`\n${names.length} tensors: ${failed ? `${failed} check(s) FAILED` : 'codes, absmax and dequantized values bit-exact'}`);
  return failed ? 1 : 0;
}
