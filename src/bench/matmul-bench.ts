/**
 * Matmul throughput at the bench model's shapes: for every distinct linear (by [out, in]) the
 * forward Y = X W^T, the input gradient dX = dY W and the weight gradient dW = dY^T X, with our
 * kernel (prepareMatmul), the naive kernel, and tfjs's matMul, on the same data and adapter.
 */
import type { Engine } from '../engine/context';
import { BufferUsage } from '../engine/flags';
import { prepareMatmul } from '../engine/kernels/matmul';
import type { PreparedOp } from '../engine/kernels/common';
import type { ModelConfig } from '../config/model-config';
import { LAYER_LINEARS } from '../model/graph/base-weights';
import { moduleShape, type ModuleName } from '../config/lora-targets';
import { prepareNaiveMatmul } from './naive-matmul';
import { tfjsMatmul } from './tfjs-matmul.js';
import { commonBasis, gflops, interleave, msOf, opRun, type Basis, type BenchTiming, type Contender } from './timing';

export type Product = 'fwd' | 'bwd-input' | 'bwd-weight';

export interface MatmulShape {
  /** The modules with this [out, in], e.g. 'q_proj/o_proj'; 'square' for the 512^3 reference. */
  name: string;
  product: Product;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
}

export interface MatmulResult extends MatmulShape {
  gflop: number;
  /** The clock of ours/naive/tfjs: the bench's basis, or wall when a device time was missing. */
  basis: Basis;
  /** GFLOP/s on that basis. */
  ours: number;
  naive: number;
  /** null when tfjs could not run */
  tfjs: number | null;
  oursVsNaive: number;
  oursVsTfjs: number | null;
  /** The same by wall clock. */
  wall: { ours: number; naive: number; tfjs: number | null };
}

/** The shapes of one linear [out, in] over `tokens` rows, as (M, N, K) and transposes of C = op(A) op(B). */
export function linearProducts(name: string, out: number, inF: number, tokens: number): MatmulShape[] {
  return [
    { name, product: 'fwd', M: tokens, N: out, K: inF, transA: false, transB: true }, //        X (T, in) W^T, W (out, in)
    { name, product: 'bwd-input', M: tokens, N: inF, K: out, transA: false, transB: false }, // dY (T, out) W
    { name, product: 'bwd-weight', M: out, N: inF, K: tokens, transA: true, transB: false }, // dY^T X, dY (T, out)
  ];
}

/** Every distinct linear of the model (the LM head included), plus a 512^3 square for reference. */
export function benchMatmulShapes(model: ModelConfig, tokens: number): MatmulShape[] {
  const groups = new Map<string, ModuleName[]>();
  for (const m of [...LAYER_LINEARS, 'lm_head'] as ModuleName[]) {
    const s = moduleShape(m, model);
    const key = `${s.out}x${s.in}`;
    groups.set(key, [...(groups.get(key) ?? []), m]);
  }
  const shapes = [...groups].flatMap(([key, ms]) => {
    const [out, inF] = key.split('x').map(Number);
    return linearProducts(ms.join('/'), out, inF, tokens);
  });
  return [...shapes, { name: 'square', product: 'fwd', M: 512, N: 512, K: 512, transA: false, transB: false }];
}

function random(n: number, seed: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

export interface MatmulBenchOptions {
  timing: BenchTiming;
  /** Time per shape after the warm-ups; contenders run in turn, `rounds` at most. */
  budgetMs: number;
  rounds: number;
  /** Run tfjs too (false when its backend is unavailable). */
  tfjs: boolean;
  log: (line: string) => void;
}

export async function benchMatmuls(engine: Engine, shapes: MatmulShape[], o: MatmulBenchOptions): Promise<MatmulResult[]> {
  const { device } = engine.gpu;
  const results: MatmulResult[] = [];
  for (const s of shapes) {
    const a = random(s.M * s.K, 1 + s.M);
    const b = random(s.K * s.N, 2 + s.N);
    const usage = BufferUsage.STORAGE | BufferUsage.COPY_DST;
    const buf = async (data: Float32Array<ArrayBuffer> | null, n: number, label: string) => {
      const g = await engine.pool.alloc({ size: 4 * n, usage, category: 'workspace', label });
      if (data) device.queue.writeBuffer(g, 0, data);
      return g;
    };
    const [ga, gb, gc] = [await buf(a, a.length, 'bench a'), await buf(b, b.length, 'bench b'), await buf(null, s.M * s.N, 'bench c')];
    const args = { out: gc, a: ga, b: gb, M: s.M, N: s.N, K: s.K, transA: s.transA, transB: s.transB };
    const ops: PreparedOp[] = [await prepareMatmul(engine, args), await prepareNaiveMatmul(engine, args)];
    const flop = 2 * s.M * s.N * s.K;
    const contenders: Contender[] = [
      { run: opRun(device, ops[0]) },
      // The naive kernel is slow by design: one run, no warm-up (its compile is a small part of it).
      { run: opRun(device, ops[1]), cold: true, maxMeasurements: 1 },
    ];
    const tf = o.tfjs ? await tfjsMatmul({ ...s, a, b }) : null;
    if (tf) contenders.push({ run: tf.run });
    const times = await interleave(contenders, o.timing, o.budgetMs, o.rounds);
    tf?.dispose();
    ops.forEach((op) => op.destroy());
    [ga, gb, gc].forEach((g) => engine.pool.destroy(g));
    const rate = (i: number, basis: Basis) => gflops(flop, msOf(times[i], basis))!;
    const basis = commonBasis(times, o.timing.basis);
    const [ours, naive] = [rate(0, basis), rate(1, basis)];
    const tfjs = tf ? rate(2, basis) : null;
    const r: MatmulResult = {
      ...s, gflop: flop / 1e9, basis, ours, naive, tfjs, oursVsNaive: ours / naive, oursVsTfjs: tfjs === null ? null : ours / tfjs,
      wall: { ours: rate(0, 'wall'), naive: rate(1, 'wall'), tfjs: tf ? rate(2, 'wall') : null },
    };
    o.log(`matmul ${s.name} ${s.product} ${s.M}x${s.N}x${s.K} (${basis} time): ours ${ours.toFixed(3)}, naive ${naive.toFixed(3)}, ` +
      `tfjs ${tfjs?.toFixed(3) ?? '-'} GFLOP/s; wall: ${r.wall.ours.toFixed(3)}, ${r.wall.naive.toFixed(3)}, ${r.wall.tfjs?.toFixed(3) ?? '-'}`);
    results.push(r);
  }
  return results;
}
