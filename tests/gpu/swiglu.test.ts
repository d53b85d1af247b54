import { afterAll, describe, expect, it } from 'vitest';
import { prepareSwigluBackward, prepareSwigluForward, type GatedActivation } from '../../src/engine/kernels/swiglu';
import { gegluBackward, gegluForward } from '../../src/reference/ops/geglu';
import { swigluBackward, swigluForward } from '../../src/reference/ops/swiglu';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();

// [N, F]
const CASES: [number, number][] = [[1, 1], [3, 17], [17, 257], [257, 3]];
const REF = {
  silu: { fwd: swigluForward, bwd: swigluBackward },
  gelu_tanh: { fwd: gegluForward, bwd: gegluBackward },
};

describe.skipIf(!engine)('swiglu kernels vs the CPU reference', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  for (const activation of ['silu', 'gelu_tanh'] as GatedActivation[]) for (const [N, F] of CASES) {
    it(`${activation}: forward and backward: N=${N} F=${F}`, async () => {
      const ref = REF[activation];
      const n = N * F;
      const gate = rand(n, n + 1, 8);
      // saturated gates too: silu(-100) = -0 (exp overflows to inf), silu(100) = 100; gelu_tanh's
      // cubic overflows tanh's argument there (tanh_safe clamps it)
      if (n >= 3) gate.set([-100, 100, 0], 0);
      if (n >= 5) gate.set([1e4, -1e4], 3);
      const up = rand(n, n + 2, 2);
      const dout = rand(n, n + 3);
      const dg0 = rand(n, n + 4);
      const du0 = rand(n, n + 5);
      const [gg, gu, gout, gdout, gdg, gdu] = await Promise.all([
        upload(e, gate, 'gate'), upload(e, up, 'up'), upload(e, new Float32Array(n), 'out'),
        upload(e, dout, 'dout'), upload(e, dg0, 'dgate'), upload(e, du0, 'dup'),
      ]);
      const want = new Float32Array(n);
      ref.fwd(want, gate, up, n);
      run(e, await prepareSwigluForward(e, { out: gout, gate: gg, up: gu, N, F, activation }));
      expect(mismatches(await read(e, gout, n), want, 1e-6, 1e-5)).toBeNull();

      // accumulate (default)
      const dg = Float32Array.from(dg0);
      const du = Float32Array.from(du0);
      ref.bwd(dg, du, dout, gate, up, n);
      const args = { dgate: gdg, dup: gdu, dout: gdout, gate: gg, up: gu, N, F, activation };
      run(e, await prepareSwigluBackward(e, args));
      expect(mismatches(await read(e, gdg, n), dg, 1e-6, 1e-5)).toBeNull();
      expect(mismatches(await read(e, gdu, n), du, 1e-6, 1e-5)).toBeNull();

      // overwrite
      const dgF = new Float32Array(n);
      const duF = new Float32Array(n);
      ref.bwd(dgF, duF, dout, gate, up, n);
      run(e, await prepareSwigluBackward(e, { ...args, accumulate: false }));
      expect(mismatches(await read(e, gdg, n), dgF, 1e-6, 1e-5)).toBeNull();
      expect(mismatches(await read(e, gdu, n), duF, 1e-6, 1e-5)).toBeNull();
    });
  }

  it('guards', async () => {
    const g = await upload(e, rand(6, 1), 'g');
    const h = await upload(e, rand(6, 2), 'h');
    await expect(prepareSwigluForward(e, { out: g, gate: g, up: h, N: 2, F: 3 })).rejects.toThrow(/also an input/);
    await expect(prepareSwigluBackward(e, { dgate: g, dup: h, dout: g, gate: h, up: h, N: 2, F: 3 })).rejects.toThrow(/also an input/);
    await expect(prepareSwigluForward(e, { out: g, gate: h, up: h, N: 2, F: 4 })).rejects.toThrow(/needs 32 bytes/);
    await expect(prepareSwigluForward(e, { out: g, gate: h, up: h, N: 2, F: 3, activation: 'relu' as GatedActivation })).rejects.toThrow(/unknown activation/);
  });
});
