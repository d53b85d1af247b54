import { afterAll, describe, expect, it } from 'vitest';
import rngWgsl from '../../shaders/lib/rng.wgsl?raw';
import { prepareDropout } from '../../src/engine/kernels/dropout';
import { makeOp, uniformBlock } from '../../src/engine/kernels/common';
import { layoutSpec } from '../../src/engine/pipelines';
import { BufferUsage } from '../../src/engine/flags';
import { readUint32 } from '../../src/engine/readback';
import type { Engine } from '../../src/engine/context';
import { loraForward } from '../../src/reference/ops/lora';
import { dropoutMask, dropoutStream, fillU32, splitU53 } from '../../src/core/rng';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();

// A test-only kernel around shaders/lib/rng.wgsl: u32 and uniform draws at counters first + i (64-bit).
const RNG_PROBE = `${rngWgsl}
struct P { count: u32, _p: u32, first: vec2<u32>, seed: vec2<u32>, stream: vec2<u32> }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> words: array<u32>;  // (count)
@group(0) @binding(2) var<storage, read_write> units: array<f32>;  // (count)
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.count) { return; }
  let lo = p.first.x + i;
  let counter = vec2<u32>(lo, p.first.y + select(0u, 1u, lo < p.first.x));
  words[i] = rng_u32(p.seed, p.stream, counter);
  units[i] = rng_uniform(p.seed, p.stream, counter);
}`;

async function gpuDraws(e: Engine, seed: number, stream: number, first: number, count: number) {
  const { pipeline, bindGroupLayout } = await e.pipelines.compute({
    label: 'rng-probe', code: RNG_PROBE, entryPoint: 'main', layout: layoutSpec(['uniform', 'rw', 'rw']),
  });
  const usage = BufferUsage.STORAGE | BufferUsage.COPY_SRC;
  const words = await e.pool.alloc({ size: 4 * count, usage, category: 'workspace', label: 'words' });
  const units = await e.pool.alloc({ size: 4 * count, usage, category: 'workspace', label: 'units' });
  const [f0, f1] = splitU53('first', first), [k0, k1] = splitU53('seed', seed), [s0, s1] = splitU53('stream', stream);
  const op = await makeOp(e, {
    label: 'rng-probe', pipeline, layout: bindGroupLayout, workgroups: [Math.ceil(count / 64), 1, 1],
    uniform: uniformBlock([['u', count], ['u', 0], ['u', f0], ['u', f1], ['u', k0], ['u', k1], ['u', s0], ['u', s1]]),
    resources: [{ buffer: words }, { buffer: units }],
  });
  run(e, op);
  const out = { words: await readUint32(e.gpu.device, words, count), units: await read(e, units, count) };
  op.destroy();
  e.pool.destroy(words);
  e.pool.destroy(units);
  return out;
}

/** An engine whose dispatch limit is tiny, to exercise the 2D grid on small shapes. */
function withMaxGroups(e: Engine, max: number): Engine {
  return { ...e, gpu: { ...e.gpu, limits: { ...e.gpu.limits, maxComputeWorkgroupsPerDimension: max } } };
}

describe.skipIf(!engine)('rng.wgsl is bit for bit src/core/rng.ts', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  // [seed, stream, first counter]: 64-bit words in every position, a counter block crossing 2^32
  const CASES: [number, number, number][] = [
    [0, 0, 0],
    [1234, dropoutStream(7, 1, 3, 2), 0],
    [2 ** 40 + 17, 2 ** 50 + 3, 2 ** 32 - 5000],
    [0xffffffff, 0xffffffff, 2 ** 33 + 1],
  ];
  for (const [seed, stream, first] of CASES) {
    it(`10,000 u32 and f32 draws, seed ${seed}, stream ${stream}, from counter ${first}`, async () => {
      const n = 10_000;
      const got = await gpuDraws(e, seed, stream, first, n);
      const want = fillU32(new Uint32Array(n), seed, stream, first);
      const wantUnits = Float32Array.from(want, (w) => (w >>> 8) / 2 ** 24);
      const badWords = want.findIndex((w, i) => got.words[i] !== w);
      expect(badWords, `first differing u32 at ${badWords}`).toBe(-1);
      const badUnits = wantUnits.findIndex((u, i) => got.units[i] !== u);
      expect(badUnits, `first differing f32 at ${badUnits}`).toBe(-1);
    });
  }
});

describe.skipIf(!engine)('dropout kernel vs the CPU mask', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  for (const n of [1, 3, 17, 257, 1000]) {
    for (const p of [0, 0.1, 0.5]) {
      it(`forward and accumulating backward, n=${n}, p=${p}`, async () => {
        const seed = 99, stream = dropoutStream(2, 0, 1, 4);
        const x = rand(n, n + 1, 1);
        const dx0 = rand(n, n + 2, 1);
        const [gx, gxd, gdx] = await Promise.all([upload(e, x, 'x'), upload(e, new Float32Array(n), 'xd'), upload(e, dx0, 'dx')]);
        const fwd = await prepareDropout(e, { out: gxd, inp: gx, n, p, seed, stream });
        // backward of xd = dropout(x): dx += dropout'(dxd), here with dxd = x
        const bwd = await prepareDropout(e, { out: gdx, inp: gx, n, p, seed, stream, accumulate: true });
        run(e, fwd, bwd);
        const [xd, dx] = [await read(e, gxd, n), await read(e, gdx, n)];
        const { keep } = dropoutMask(p, seed, stream, n);
        const s = Math.fround(1 / (1 - p));
        const maskErr = keep.findIndex((k, j) => (xd[j] !== 0) !== (k === 1));
        expect(maskErr, `first mask mismatch at ${maskErr}`).toBe(-1);
        const want = Float32Array.from(x, (v, j) => (keep[j] ? Math.fround(v * s) : 0));
        expect(mismatches(xd, want, 0, 0)).toBeNull();
        if (p === 0) expect(mismatches(xd, x, 0, 0)).toBeNull();
        expect(mismatches(dx, Float32Array.from(dx0, (v, j) => v + want[j]), 1e-7, 1e-6)).toBeNull();
        fwd.destroy();
        bwd.destroy();
      });
    }
  }

  it('matches what the reference LoRA op does with the CPU mask', async () => {
    const [N, In, R, Out, p, seed, stream] = [3, 17, 2, 5, 0.3, 5, dropoutStream(0, 1, 0, 0)];
    const x = rand(N * In, 1), A = rand(R * In, 2), B = rand(Out * R, 3);
    const [gx, gxd] = await Promise.all([upload(e, x, 'x'), upload(e, new Float32Array(N * In), 'xd')]);
    const op = await prepareDropout(e, { out: gxd, inp: gx, n: N * In, p, seed, stream });
    run(e, op);
    const xd = await read(e, gxd, N * In);
    const want = new Float32Array(N * Out), got = new Float32Array(N * Out);
    loraForward(want, new Float32Array(N * R), x, A, B, 2, dropoutMask(p, seed, stream, N * In), N, In, R, Out);
    loraForward(got, new Float32Array(N * R), xd, A, B, 2, null, N, In, R, Out);
    expect(mismatches(got, want, 1e-6, 1e-5)).toBeNull();
    op.destroy();
  });

  it('keeps about 1 - p of 10^5 elements; same seed same mask; other stream or seed, other mask', async () => {
    const n = 100_000, p = 0.1;
    const ones = new Float32Array(n).fill(1);
    const gx = await upload(e, ones, 'ones');
    const outs = await Promise.all([0, 1, 2, 3].map((i) => upload(e, new Float32Array(n), `out${i}`)));
    const s = dropoutStream(10, 0, 0, 0);
    const args = [[7, s], [7, s], [7, dropoutStream(10, 0, 0, 1)], [8, s]];
    const ops = await Promise.all(args.map(([seed, stream], i) => prepareDropout(e, { out: outs[i], inp: gx, n, p, seed, stream })));
    run(e, ...ops);
    const [a, b, c, d] = await Promise.all(outs.map((o) => read(e, o, n)));
    const kept = a.reduce((k, v) => k + (v !== 0 ? 1 : 0), 0);
    expect(Math.abs(kept / n - (1 - p))).toBeLessThan(0.005);
    expect(mismatches(a, b, 0, 0)).toBeNull();
    expect(mismatches(c, a, 0, 0)).not.toBeNull();
    expect(mismatches(d, a, 0, 0)).not.toBeNull();
    // the same seed and stream on the CPU gives the same mask
    const { keep } = dropoutMask(p, 7, s, n);
    expect(keep.findIndex((k, j) => (a[j] !== 0) !== (k === 1))).toBe(-1);
    // setStream switches to another stream's mask
    ops[0].setStream(dropoutStream(10, 0, 0, 1));
    run(e, ops[0]);
    expect(mismatches(await read(e, outs[0], n), c, 0, 0)).toBeNull();
    ops.forEach((op) => op.destroy());
  });

  it('covers a 2D grid with a partial last row; guards reject bad arguments', async () => {
    const n = 5000; // 20 workgroups of 256 elements -> 7 x 3 grid with the dispatch limit set to 7
    const x = rand(n, 11);
    const [gx, gy] = await Promise.all([upload(e, x, 'x'), upload(e, new Float32Array(n), 'y')]);
    const op = await prepareDropout(withMaxGroups(e, 7), { out: gy, inp: gx, n, p: 0.25, seed: 3, stream: 4 });
    expect(op.workgroups).toEqual([7, 3, 1]);
    run(e, op);
    const { keep } = dropoutMask(0.25, 3, 4, n);
    const want = Float32Array.from(x, (v, j) => (keep[j] ? Math.fround(v * Math.fround(1 / 0.75)) : 0));
    expect(mismatches(await read(e, gy, n), want, 0, 0)).toBeNull();
    op.destroy();
    await expect(prepareDropout(e, { out: gy, inp: gx, n, p: 1, seed: 0, stream: 0 })).rejects.toThrow(/p must be in \[0, 1\)/);
    await expect(prepareDropout(e, { out: gx, inp: gx, n, p: 0.1, seed: 0, stream: 0 })).rejects.toThrow(/also an input/);
    await expect(prepareDropout(e, { out: gy, inp: gx, n: n + 1, p: 0.1, seed: 0, stream: 0 })).rejects.toThrow(/needs 20004 bytes/);
    await expect(prepareDropout(e, { out: gy, inp: gx, n, p: 0.1, seed: -1, stream: 0 })).rejects.toThrow(/seed/);
  });
});
