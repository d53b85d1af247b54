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
import { gflops, timeOp } from './timing';

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
  fwd: number; // GFLOP/s
  bwdInput: number; // GFLOP/s
}

export async function benchWeightFormats(
  engine: Engine, out: number, inF: number, tokens: number, budgetMs: number, log: (l: string) => void,
): Promise<WeightMatmulResult[]> {
  const { device } = engine.gpu;
  const w32 = new Float32Array(out * inF).map((_, i) => Math.sin(i * 0.37) * 0.05);
  const usage = BufferUsage.STORAGE | BufferUsage.COPY_DST;
  const x = await engine.pool.alloc({ size: 4 * tokens * Math.max(inF, out), usage, category: 'workspace', label: 'bench x' });
  const y = await engine.pool.alloc({ size: 4 * tokens * Math.max(inF, out), usage, category: 'workspace', label: 'bench y' });
  device.queue.writeBuffer(x, 0, new Float32Array(tokens * Math.max(inF, out)).map((_, i) => Math.cos(i * 0.11)));
  const results: WeightMatmulResult[] = [];
  const flop = 2 * tokens * out * inF;
  for (const f of WEIGHT_FORMATS) {
    const w = await uploadWeight(engine, packWeight(w32, f.format, { doubleQuant: f.doubleQuant }), out, inF, `bench ${f.name}`);
    const fwd = await prepareLinearForward(engine, { out: y, x, weight: w, M: tokens });
    const bwd = await prepareLinearBackwardInput(engine, { dx: y, dy: x, weight: w, M: tokens });
    const r = {
      format: f.name, out, in: inF, tokens,
      fwd: gflops(flop, (await timeOp(device, fwd, budgetMs)).ms),
      bwdInput: gflops(flop, (await timeOp(device, bwd, budgetMs)).ms),
    };
    log(`weight matmul ${f.name} ${tokens}x${out}x${inF}: fwd ${r.fwd.toFixed(3)}, bwd-input ${r.bwdInput.toFixed(3)} GFLOP/s`);
    results.push(r);
    fwd.destroy();
    bwd.destroy();
    destroyWeight(engine, w);
  }
  engine.pool.destroy(x);
  engine.pool.destroy(y);
  return results;
}
