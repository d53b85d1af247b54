import { afterAll, describe, expect, it } from 'vitest';
import {
  adapterKind, attentionSmemBytes, attentionTiles, attentionVariantConstants, attentionWorkspaceBytes, columnsPerInvocation, prepareAttentionForward,
  ATTENTION_MAX_D, ATTENTION_SMEM_BUDGET,
} from '../../src/engine/kernels/attention-forward';
import { prepareAttentionBackward } from '../../src/engine/kernels/attention-backward';
import { attentionBackward, attentionForward, type AttentionOptions } from '../../src/reference/ops/attention';
import type { Engine } from '../../src/engine/context';
import { mismatches, rand, read, run, testEngine, upload } from './gpu';

const engine = await testEngine();

interface Case { B: number; T: number; H: number; KV: number; D: number }

/** The reference forward and backward (gradients from zero), plus lse from the stored probabilities. */
function reference(
  { B, T, H, KV, D }: Case, q: Float32Array, k: Float32Array, v: Float32Array, dout: Float32Array, opts: AttentionOptions = {},
) {
  const out = new Float32Array(B * T * H * D);
  const att = new Float32Array(B * H * T * T);
  attentionForward(out, att, q, k, v, B, T, H, KV, D, opts);
  const dq = new Float32Array(q.length);
  const dk = new Float32Array(k.length);
  const dv = new Float32Array(v.length);
  attentionBackward(dq, dk, dv, dout, q, k, v, att, B, T, H, KV, D, opts);
  // lse_i = S_ii - log p_ii (the diagonal is inside every window), S the (capped) scaled score.
  const lse = new Float64Array(B * H * T);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const cap = opts.softcap ?? null;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / (H / KV));
      for (let i = 0; i < T; i++) {
        let s = 0;
        for (let d = 0; d < D; d++) s += q[((b * T + i) * H + h) * D + d] * k[((b * T + i) * KV + kvh) * D + d];
        const S = cap === null ? s * scale : cap * Math.tanh((s * scale) / cap);
        lse[(b * H + h) * T + i] = S - Math.log(att[((b * H + h) * T + i) * T + i]);
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
  { B: 1, T: 50, H: 4, KV: 2, D: 64 },  // the bench model's heads, several tiles of every kernel
  // D % 4 != 0: rows zero-padded to whole vec4s in workgroup memory
  { B: 1, T: 9, H: 2, KV: 1, D: 6 },
  { B: 1, T: 5, H: 2, KV: 2, D: 2 },
  // larger heads: fewer rows per block (D = 80: RB 2), 2 rows per invocation in dq and 32 invocations in dkdv (D = 256)
  { B: 1, T: 20, H: 3, KV: 1, D: 80 },
  { B: 1, T: 21, H: 2, KV: 2, D: 128 },
  { B: 1, T: 6, H: 2, KV: 1, D: 256 },
];

describe('attention tiles', () => {
  it('fit the guaranteed 16 KiB of workgroup memory', () => {
    for (const D of [1, 8, 16, 33, 64, 80, 100, 128, 256]) {
      const t = attentionTiles(D);
      for (const kind of ['fwd', 'dq', 'dkdv'] as const) {
        expect(attentionSmemBytes[kind](t[kind], D)).toBeLessThanOrEqual(ATTENTION_SMEM_BUDGET);
      }
    }
    // Every D up to the limit gets tiles the WGSL can run: whole row groups and key quads, at most
    // 4 (fwd, dq) or 2 (dkdv) vec4 columns per invocation, a score block for every invocation up to D = 64.
    for (let D = 1; D <= ATTENTION_MAX_D; D++) for (const adapter of ['cpu', 'gpu'] as const) {
      const t = attentionTiles(D, adapter);
      for (const kind of ['fwd', 'dq', 'dkdv'] as const) {
        const { BR, BC, WG, RB, RQ } = t[kind];
        const where = `D = ${D} ${adapter} ${kind} ${JSON.stringify(t[kind])}`;
        expect(attentionSmemBytes[kind](t[kind], D), where).toBeLessThanOrEqual(ATTENTION_SMEM_BUDGET);
        expect(BC % 4 === 0 && BR % RB === 0 && (kind === 'dkdv' || BR % RQ === 0), where).toBe(true);
        expect(columnsPerInvocation(kind, t[kind], D), where).toBeLessThanOrEqual(kind === 'dkdv' ? 2 : 4);
        if (D <= 64 && adapter === 'cpu') expect((BR / RB) * (BC / 4), where).toBeGreaterThanOrEqual(WG);
      }
    }
    const tile = (BR: number, BC: number, RB: number, RQ = 4, WG = 16) => ({ BR, BC, WG, RB, RQ });
    expect(attentionTiles(64)).toEqual({ fwd: tile(16, 16, 4), dq: tile(16, 8, 2), dkdv: tile(16, 8, 2) });
    expect(attentionTiles(128)).toEqual({ fwd: tile(8, 8, 1), dq: tile(8, 4, 1), dkdv: tile(8, 4, 1) });
    expect(attentionTiles(256)).toEqual({ fwd: tile(4, 4, 1), dq: tile(2, 4, 1, 2), dkdv: tile(2, 4, 1, 4, 32) });
    // A GPU gets 64 invocations (two warps, one wavefront) where the tiles allow it.
    expect(attentionTiles(64, 'gpu')).toMatchObject({ fwd: { WG: 64 }, dq: { WG: 64 }, dkdv: { WG: 64 } });
    expect(attentionTiles(128, 'gpu').fwd.WG).toBe(64);
    expect(() => attentionTiles(288)).toThrow(/head dim D = 288 exceeds 256/);
    expect(attentionWorkspaceBytes({ B: 2, H: 3, T: 5 })).toEqual({ lse: 120, dvec: 120 });
  });
});

describe.skipIf(!engine)('causal GQA attention vs the CPU reference', () => {
  const cpu = engine!;
  afterAll(() => cpu.pool.destroyAll());
  // The same device described as a GPU: the kernels take the GPU's workgroup sizes (64).
  const gpu: Engine = { ...cpu, gpu: { ...cpu.gpu, adapterInfo: { vendor: 'test', architecture: 'gpu', device: '', description: 'a GPU' } } };
  it('this device is a CPU adapter (SwiftShader), so both sizings run here', () => {
    expect(adapterKind(cpu)).toBe('cpu');
    expect(adapterKind(gpu)).toBe('gpu');
  });

  for (const c of CASES) for (const [sizing, e] of [['CPU', cpu], ['GPU', gpu]] as const) {
    const { B, T, H, KV, D } = c;
    it(`(B, T, H, KV, D) = (${B}, ${T}, ${H}, ${KV}, ${D}), ${sizing}-sized workgroups`, () => checkCase(e, c, {}));
  }

  async function checkCase(e: Engine, c: Case, opts: AttentionOptions, qkScale = 1) {
    const { B, T, H, KV, D } = c;
    const q = rand(B * T * H * D, 1 + T, qkScale);
    const k = rand(B * T * KV * D, 2 + T, qkScale);
    const v = rand(B * T * KV * D, 3 + T, 1);
    const dout = rand(B * T * H * D, 4 + T, 1);
    const ref = reference(c, q, k, v, dout, opts);
    const ws = attentionWorkspaceBytes(c);
    const alloc = (bytes: number, label: string) => e.pool.alloc({
      size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, category: 'activations', label,
    });
    const [gq, gk, gv, gdout] = await Promise.all([upload(e, q, 'q'), upload(e, k, 'k'), upload(e, v, 'v'), upload(e, dout, 'dout')]);
    // dq, dk, dv start as garbage: the backward overwrites them.
    const [gdq, gdk, gdv] = await Promise.all([upload(e, rand(q.length, 9), 'dq'), upload(e, rand(k.length, 8), 'dk'), upload(e, rand(v.length, 7), 'dv')]);
    const [gout, glse, gdvec] = await Promise.all([alloc(4 * q.length, 'out'), alloc(ws.lse, 'lse'), alloc(ws.dvec, 'dvec')]);

    const fwd = await prepareAttentionForward(e, { out: gout, lse: glse, q: gq, k: gk, v: gv, ...c, ...opts });
    const bwd = await prepareAttentionBackward(e, {
      dq: gdq, dk: gdk, dv: gdv, dout: gdout, q: gq, k: gk, v: gv, out: gout, lse: glse, dvec: gdvec, ...c, ...opts,
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
  }

  // Gemma's variants: sliding windows smaller than T (T not a multiple of any tile), window 1 (each
  // query sees itself), windows >= T (full attention, dropped by the wrapper) and T - 1, GQA, a
  // long sequence with a small window (whole key tiles skipped in fwd and dq, query tiles in dkdv),
  // softcapping with a large custom scale so that tanh saturates, and all of it together. (Each new
  // (D, window, softcap, scale) compiles three pipelines per sizing, the cost of this file on a CPU adapter.)
  const VARIANTS: [Case, AttentionOptions, number][] = [
    [{ B: 2, T: 17, H: 6, KV: 3, D: 16 }, { window: 5 }, 1],
    [{ B: 1, T: 9, H: 2, KV: 1, D: 8 }, { window: 1 }, 1],
    [{ B: 1, T: 19, H: 4, KV: 2, D: 64 }, { window: 19 }, 1],
    [{ B: 1, T: 8, H: 4, KV: 2, D: 64 }, { window: 7 }, 1],  // T - 1, and the pipelines of the next-but-one case
    [{ B: 1, T: 13, H: 2, KV: 2, D: 8 }, { window: 100 }, 1],
    [{ B: 1, T: 83, H: 4, KV: 2, D: 64 }, { window: 7 }, 1],
    [{ B: 1, T: 37, H: 2, KV: 1, D: 6 }, { window: 3 }, 1],
    [{ B: 1, T: 20, H: 3, KV: 1, D: 80 }, { window: 6 }, 1],
    [{ B: 1, T: 21, H: 2, KV: 2, D: 128 }, { window: 9 }, 1],
    [{ B: 1, T: 6, H: 2, KV: 1, D: 256 }, { window: 2, softcap: 3 }, 1],
    [{ B: 2, T: 17, H: 4, KV: 1, D: 16 }, { softcap: 2, scale: 0.7 }, 2],
    [{ B: 1, T: 45, H: 4, KV: 2, D: 64 }, { softcap: 5, scale: 0.5, window: 11 }, 2],
  ];
  for (const [c, opts, qkScale] of VARIANTS) for (const [sizing, e] of [['CPU', cpu], ['GPU', gpu]] as const) {
    const { B, T, H, KV, D } = c;
    it(`(B, T, H, KV, D) = (${B}, ${T}, ${H}, ${KV}, ${D}) with ${JSON.stringify(opts)}, ${sizing}-sized workgroups`,
      () => checkCase(e, c, opts, qkScale));
  }

  it('variants become override constants only when they change something; bad values are refused', async () => {
    expect(attentionVariantConstants('t', {}, 64, 10)).toEqual({});
    expect(attentionVariantConstants('t', { scale: 1 / 8, window: 10, softcap: null }, 64, 10)).toEqual({});
    expect(attentionVariantConstants('t', { scale: 0.5, window: 9, softcap: 50 }, 64, 10)).toEqual({ SCALE: 0.5, WINDOW: 9, SOFTCAP: 50 });
    for (const bad of [{ window: 0 }, { window: 2.5 }, { scale: -1 }, { scale: NaN }, { softcap: 0 }, { softcap: -3 }]) {
      expect(() => attentionVariantConstants('t', bad, 8, 10), JSON.stringify(bad)).toThrow(/window|scale|softcap/);
    }
    const b = await upload(cpu, new Float32Array(64), 'b');
    await expect(prepareAttentionForward(cpu, { out: b, lse: b, q: b, k: b, v: b, B: 1, T: 2, H: 1, KV: 1, D: 4, window: 0 }))
      .rejects.toThrow(/window must be an integer >= 1/);
  });

  it('accumulate adds onto dq, dk, dv; guards reject bad shapes', async () => {
    const e = cpu;
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
