import { afterAll, describe, expect, it } from 'vitest';
import {
  attentionSmemBytes, attentionTiles, attentionWorkspaceBytes, prepareAttentionForward, ATTENTION_SMEM_BUDGET,
} from '../../src/engine/kernels/attention';
import { prepareAttentionBackward } from '../../src/engine/kernels/attention-backward';
import { attentionBackward, attentionForward } from '../../src/reference/ops/attention';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();

interface Case { B: number; T: number; H: number; KV: number; D: number }

/** The reference forward and backward (gradients from zero), plus lse from the stored probabilities. */
function reference({ B, T, H, KV, D }: Case, q: Float32Array, k: Float32Array, v: Float32Array, dout: Float32Array) {
  const out = new Float32Array(B * T * H * D);
  const att = new Float32Array(B * H * T * T);
  attentionForward(out, att, q, k, v, B, T, H, KV, D);
  const dq = new Float32Array(q.length);
  const dk = new Float32Array(k.length);
  const dv = new Float32Array(v.length);
  attentionBackward(dq, dk, dv, dout, q, k, v, att, B, T, H, KV, D);
  // lse_i = s_ij - log p_ij for any j <= i; j = 0 is always unmasked.
  const lse = new Float64Array(B * H * T);
  const scale = 1 / Math.sqrt(D);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / (H / KV));
      for (let i = 0; i < T; i++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += q[((b * T + i) * H + h) * D + d] * k[((b * T) * KV + kvh) * D + d];
        lse[(b * H + h) * T + i] = s * scale - Math.log(att[((b * H + h) * T + i) * T]);
      }
    }
  }
  return { out, lse, dq, dk, dv };
}

const CASES: Case[] = [
  { B: 1, T: 1, H: 1, KV: 1, D: 8 },
  { B: 2, T: 3, H: 4, KV: 2, D: 8 },
  { B: 1, T: 17, H: 6, KV: 3, D: 16 },
  { B: 1, T: 257, H: 2, KV: 1, D: 8 },
  { B: 2, T: 19, H: 4, KV: 1, D: 64 },
];

describe('attention tiles', () => {
  it('fit the guaranteed 16 KiB of workgroup memory', () => {
    for (const D of [1, 8, 16, 33, 64, 80, 100, 128, 256]) {
      const t = attentionTiles(D);
      for (const kind of ['fwd', 'dq', 'dkdv'] as const) {
        expect(attentionSmemBytes[kind](t[kind], D)).toBeLessThanOrEqual(ATTENTION_SMEM_BUDGET);
      }
    }
    expect(attentionTiles(64)).toEqual({ fwd: { BR: 16, BC: 16 }, dq: { BR: 16, BC: 16 }, dkdv: { BR: 8, BC: 16 } });
    expect(attentionTiles(128)).toEqual({ fwd: { BR: 8, BC: 8 }, dq: { BR: 8, BC: 8 }, dkdv: { BR: 4, BC: 8 } });
    expect(attentionWorkspaceBytes({ B: 2, H: 3, T: 5 })).toEqual({ lse: 120, dvec: 120 });
  });
});

describe.skipIf(!engine)('causal GQA attention vs the CPU reference', () => {
  const e = engine!;
  afterAll(() => e.pool.destroyAll());

  for (const c of CASES) {
    const { B, T, H, KV, D } = c;
    it(`(B, T, H, KV, D) = (${B}, ${T}, ${H}, ${KV}, ${D})`, async () => {
      const q = rand(B * T * H * D, 1 + T, 1);
      const k = rand(B * T * KV * D, 2 + T, 1);
      const v = rand(B * T * KV * D, 3 + T, 1);
      const dout = rand(B * T * H * D, 4 + T, 1);
      const ref = reference(c, q, k, v, dout);
      const ws = attentionWorkspaceBytes(c);
      const alloc = (bytes: number, label: string) => e.pool.alloc({
        size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, category: 'activations', label,
      });
      const [gq, gk, gv, gdout] = await Promise.all([upload(e, q, 'q'), upload(e, k, 'k'), upload(e, v, 'v'), upload(e, dout, 'dout')]);
      // dq, dk, dv start as garbage: the backward overwrites them.
      const [gdq, gdk, gdv] = await Promise.all([upload(e, rand(q.length, 9), 'dq'), upload(e, rand(k.length, 8), 'dk'), upload(e, rand(v.length, 7), 'dv')]);
      const [gout, glse, gdvec] = await Promise.all([alloc(4 * q.length, 'out'), alloc(ws.lse, 'lse'), alloc(ws.dvec, 'dvec')]);

      const fwd = await prepareAttentionForward(e, { out: gout, lse: glse, q: gq, k: gk, v: gv, ...c });
      const bwd = await prepareAttentionBackward(e, {
        dq: gdq, dk: gdk, dv: gdv, dout: gdout, q: gq, k: gk, v: gv, out: gout, lse: glse, dvec: gdvec, ...c,
      });
      run(e, fwd, bwd);
      const [out, lse, dq, dk, dv] = await Promise.all([
        read(e, gout, q.length), read(e, glse, B * H * T), read(e, gdq, q.length), read(e, gdk, k.length), read(e, gdv, v.length),
      ]);
      expect(mismatches(out, ref.out, 1e-5, 1e-4), 'out').toBeNull();
      expect(mismatches(lse, ref.lse, 1e-5, 1e-5), 'lse').toBeNull();
      expect(mismatches(dq, ref.dq, 1e-4, 1e-3), 'dq').toBeNull();
      expect(mismatches(dk, ref.dk, 1e-4, 1e-3), 'dk').toBeNull();
      expect(mismatches(dv, ref.dv, 1e-4, 1e-3), 'dv').toBeNull();
      fwd.destroy();
      bwd.destroy();
    });
  }

  it('accumulate adds onto dq, dk, dv; guards reject bad shapes', async () => {
    const c = { B: 1, T: 5, H: 2, KV: 1, D: 8 };
    const q = rand(c.T * c.H * c.D, 11);
    const k = rand(c.T * c.KV * c.D, 12);
    const v = rand(c.T * c.KV * c.D, 13);
    const dout = rand(q.length, 14);
    const ref = reference(c, q, k, v, dout);
    const [dq0, dk0, dv0] = [rand(q.length, 15), rand(k.length, 16), rand(v.length, 17)];
    const g = await Promise.all([q, k, v, dout, dq0, dk0, dv0, new Float32Array(q.length), new Float32Array(c.T * c.H), new Float32Array(c.T * c.H)]
      .map((x, i) => upload(e, x, `acc${i}`)));
    const [gq, gk, gv, gdout, gdq, gdk, gdv, gout, glse, gdvec] = g;
    const fwd = await prepareAttentionForward(e, { out: gout, lse: glse, q: gq, k: gk, v: gv, ...c });
    const bwd = await prepareAttentionBackward(e, {
      dq: gdq, dk: gdk, dv: gdv, dout: gdout, q: gq, k: gk, v: gv, out: gout, lse: glse, dvec: gdvec, accumulate: true, ...c,
    });
    run(e, fwd, bwd);
    const plus = (a: Float32Array, b: Float32Array) => a.map((x, i) => x + b[i]);
    expect(mismatches(await read(e, gdq, q.length), plus(ref.dq, dq0), 1e-4, 1e-3), 'dq').toBeNull();
    expect(mismatches(await read(e, gdk, k.length), plus(ref.dk, dk0), 1e-4, 1e-3), 'dk').toBeNull();
    expect(mismatches(await read(e, gdv, v.length), plus(ref.dv, dv0), 1e-4, 1e-3), 'dv').toBeNull();

    const base = { out: gout, lse: glse, q: gq, k: gk, v: gv };
    await expect(prepareAttentionForward(e, { ...base, ...c, H: 3, KV: 2 })).rejects.toThrow(/not a multiple of KV = 2/);
    await expect(prepareAttentionForward(e, { ...base, ...c, T: 6 })).rejects.toThrow(/q \(B, T, H, D\) = \(1, 6, 2, 8\) needs 384 bytes/);
    await expect(prepareAttentionForward(e, { ...base, ...c, out: gq })).rejects.toThrow(/is also an input/);
    await expect(prepareAttentionForward(e, { ...base, ...c, D: 0 })).rejects.toThrow(/D must be a positive integer/);
    await expect(prepareAttentionBackward(e, {
      dq: gdq, dk: gdv, dv: gdv, dout: gdout, q: gq, k: gk, v: gv, out: gout, lse: glse, dvec: gdvec, ...c,
    })).rejects.toThrow(/is also an input/);
    fwd.destroy();
    bwd.destroy();
  });
});
