/**
 * Base-weight matmul by storage format at one linear of the bench model (the largest, gate/up):
 * forward Y = X W^T and input gradient dX = dY W with W in f32, f16, bf16, int8, NF4 and NF4 with
 * double quantization, dequantized inside the tile loads.
 */
import type { Engine } from '../engine/context';
import { BufferUsage } from '../engine/flags';
import { prepareLinearBackwardInput, prepareLinearForward } from '../engine/kernels/matmul-weight';
import { destroyWeight, uploadWeight } from '../engine/kernels/weights';
import { packWeight, type WeightFormat } from '../reference/quant/packed';
import { commonBasis, gflops, interleave, msOf, opRun, type Basis, type BenchTiming } from './timing';

export interface WeightFormatCase {
  name: string;
  format: WeightFormat;
  doubleQuant: boolean;
}

export const WEIGHT_FORMATS: WeightFormatCase[] = [
  { name: 'f32', format: 'f32', doubleQuant: false },
  { name: 'f16', format: 'f16', doubleQuant: false },
  { name: 'bf16', format: 'bf16', doubleQuant: false },
  { name: 'int8', format: 'int8', doubleQuant: false },
  { name: 'nf4', format: 'nf4', doubleQuant: false },
  { name: 'nf4+dq', format: 'nf4', doubleQuant: true },
];

export interface WeightMatmulResult {
  format: string;
  /** W (out, in), over `tokens` rows */
  out: number;
  in: number;
  tokens: number;
  /** The clock of fwd and bwdInput (see MatmulResult.basis). */
  basis: Basis;
  /** GFLOP/s on that basis, and by wall clock */
  fwd: number;
  bwdInput: number;
  wall: { fwd: number; bwdInput: number };
}

/** Every format's forward and input-gradient products, timed in interleaved rounds. */
export async function benchWeightFormats(
  engine: Engine, out: number, inF: number, tokens: number, timing: BenchTiming, budgetMs: number, rounds: number, log: (l: string) => void,
): Promise<WeightMatmulResult[]> {
  const { device } = engine.gpu;
  const w32 = new Float32Array(out * inF).map((_, i) => Math.sin(i * 0.37) * 0.05);
  const usage = BufferUsage.STORAGE | BufferUsage.COPY_DST;
  const rows = tokens * Math.max(inF, out);
  const x = await engine.pool.alloc({ size: 4 * rows, usage, category: 'workspace', label: 'bench x' });
  const y = await engine.pool.alloc({ size: 4 * rows, usage, category: 'workspace', label: 'bench y' });
  device.queue.writeBuffer(x, 0, new Float32Array(rows).map((_, i) => Math.cos(i * 0.11)));
  const cases = [];
  for (const f of WEIGHT_FORMATS) {
    const w = await uploadWeight(engine, packWeight(w32, f.format, { doubleQuant: f.doubleQuant }), out, inF, `bench ${f.name}`);
    const fwd = await prepareLinearForward(engine, { out: y, x, weight: w, M: tokens });
    const bwd = await prepareLinearBackwardInput(engine, { dx: y, dy: x, weight: w, M: tokens });
    cases.push({ f, w, fwd, bwd });
  }
  const times = await interleave(cases.flatMap((c) => [{ run: opRun(device, c.fwd) }, { run: opRun(device, c.bwd) }]), timing, budgetMs, rounds);
  const flop = 2 * tokens * out * inF;
  const rate = (i: number, basis: Basis) => gflops(flop, msOf(times[i], basis))!;
  const basis = commonBasis(times, timing.basis);
  const results = cases.map((c, i): WeightMatmulResult => {
    const r = {
      format: c.f.name, out, in: inF, tokens, basis, fwd: rate(2 * i, basis), bwdInput: rate(2 * i + 1, basis),
      wall: { fwd: rate(2 * i, 'wall'), bwdInput: rate(2 * i + 1, 'wall') },
    };
    log(`weight matmul ${c.f.name} ${tokens}x${out}x${inF}: fwd ${r.fwd.toFixed(3)}, bwd-input ${r.bwdInput.toFixed(3)} GFLOP/s`);
    c.fwd.destroy();
    c.bwd.destroy();
    destroyWeight(engine, c.w);
    return r;
  });
  engine.pool.destroy(x);
  engine.pool.destroy(y);
  return results;
}
