import type { DropoutMask } from '../../src/core/rng';
import { describe, expect, it } from 'vitest';
import { attentionBackward, attentionForward, type AttentionOptions } from '../../src/reference/ops/attention';
import { crossEntropyBackward, crossEntropyForward } from '../../src/reference/ops/cross-entropy';
import { embeddingBackward, embeddingForward } from '../../src/reference/ops/embedding';
import { gegluBackward, gegluForward } from '../../src/reference/ops/geglu';
import { linearBackward, linearForward } from '../../src/reference/ops/linear';
import { loraBackward, loraForward } from '../../src/reference/ops/lora';
import { residualBackward, residualForward } from '../../src/reference/ops/residual';
import { rmsnormBackward, rmsnormForward } from '../../src/reference/ops/rmsnorm';
import { softcapBackward, softcapForward } from '../../src/reference/ops/softcap';
import { ropeBackward, ropeForward, ropeTables } from '../../src/reference/ops/rope';
import { swigluBackward, swigluForward } from '../../src/reference/ops/swiglu';
import { dot, expectGradMatchesFd, randArray, rng } from './helpers';

// Each op's backward against central differences of L = sum(out * R), in float64, on odd sizes.
const all = (n: number) => Array.from({ length: n }, (_, i) => i);
const F64 = Float64Array;

describe('op backward vs finite differences (float64)', () => {
  it('linear: dx, dW, db', () => {
    const rand = rng(1);
    const [N, In, Out] = [3, 5, 7];
    const x = randArray(rand, N * In), W = randArray(rand, Out * In), b = randArray(rand, Out), R = randArray(rand, N * Out);
    const L = () => { const o = new F64(N * Out); linearForward(o, x, W, b, N, In, Out); return dot(o, R); };
    const dx = new F64(N * In), dW = new F64(Out * In), db = new F64(Out);
    linearBackward(dx, dW, db, R, x, W, N, In, Out);
    expectGradMatchesFd('linear dx', L, x, dx, all(N * In));
    expectGradMatchesFd('linear dW', L, W, dW, all(Out * In));
    expectGradMatchesFd('linear db', L, b, db, all(Out));
  });

  for (const withMask of [false, true]) {
    it(`lora: dx, dA, dB ${withMask ? 'with' : 'without'} a dropout mask`, () => {
      const rand = rng(2);
      const [N, In, R, Out, scale] = [3, 7, 2, 5, 1.5];
      const x = randArray(rand, N * In), A = randArray(rand, R * In), B = randArray(rand, Out * R), G = randArray(rand, N * Out);
      const mask: DropoutMask | null = withMask ? { keep: Uint8Array.from(all(N * In), () => (rand() < 0.7 ? 1 : 0)), p: 0.3 } : null;
      const L = () => { const o = new F64(N * Out), h = new F64(N * R); loraForward(o, h, x, A, B, scale, mask, N, In, R, Out); return dot(o, G); };
      const o = new F64(N * Out), h = new F64(N * R);
      loraForward(o, h, x, A, B, scale, mask, N, In, R, Out);
      const dx = new F64(N * In), dA = new F64(R * In), dB = new F64(Out * R);
      loraBackward(dx, dA, dB, G, x, h, A, B, scale, mask, N, In, R, Out);
      expectGradMatchesFd('lora dx', L, x, dx, all(N * In));
      expectGradMatchesFd('lora dA', L, A, dA, all(R * In));
      expectGradMatchesFd('lora dB', L, B, dB, all(Out * R));
      if (mask) for (let j = 0; j < N * In; j++) if (!mask.keep[j]) expect(dx[j]).toBe(0);
    });
  }

  for (const plusOne of [false, true]) {
    it(`rmsnorm: dinp, dweight${plusOne ? ' with (1 + w)' : ''}`, () => {
      const rand = rng(3);
      const [N, C, eps] = [3, 13, 1e-5];
      const x = randArray(rand, N * C), w = randArray(rand, C), R = randArray(rand, N * C);
      const L = () => { const o = new F64(N * C); rmsnormForward(o, null, x, w, N, C, eps, plusOne); return dot(o, R); };
      const o = new F64(N * C), rstd = new F64(N);
      rmsnormForward(o, rstd, x, w, N, C, eps, plusOne);
      const dx = new F64(N * C), dw = new F64(C);
      rmsnormBackward(dx, dw, R, x, w, rstd, N, C, plusOne);
      expectGradMatchesFd('rmsnorm dx', L, x, dx, all(N * C));
      expectGradMatchesFd('rmsnorm dw', L, w, dw, all(C));
      if (plusOne) {
        // (1 + w) with w stored is the plain norm with weight 1 + w
        const o1 = new F64(N * C);
        rmsnormForward(o1, null, x, w.map((wi) => 1 + wi), N, C, eps);
        for (let i = 0; i < N * C; i++) expect(o[i]).toBeCloseTo(o1[i], 14);
      }
    });
  }

  it('rope: dinp, and the forward is the HF rotate-half formula', () => {
    const rand = rng(4);
    const [B, T, H, D] = [2, 5, 3, 6];
    const { cos, sin } = ropeTables(F64, T, D, 10000);
    const x = randArray(rand, B * T * H * D), R = randArray(rand, B * T * H * D);
    const L = () => { const o = new F64(x.length); ropeForward(o, x, cos, sin, B, T, H, D); return dot(o, R); };
    const dx = new F64(x.length);
    ropeBackward(dx, R, cos, sin, B, T, H, D);
    expectGradMatchesFd('rope dx', L, x, dx, all(x.length));
    // out = x * cat(cos, cos) + cat(-x2, x1) * cat(sin, sin), angle t / theta^(2i/D), for one vector
    const o = new F64(x.length);
    ropeForward(o, x, cos, sin, B, T, H, D);
    const [b, t, h, half] = [1, 3, 2, D / 2];
    const base = ((b * T + t) * H + h) * D;
    for (let d = 0; d < D; d++) {
      const i = d % half;
      const ang = t / Math.pow(10000, (2 * i) / D);
      const rot = d < half ? -x[base + d + half] : x[base + d - half];
      expect(o[base + d]).toBeCloseTo(x[base + d] * Math.cos(ang) + rot * Math.sin(ang), 12);
    }
  });

  for (const [H, KV] of [[4, 2], [6, 3], [3, 3], [4, 1]]) {
    it(`attention: dq, dk, dv with ${H} heads / ${KV} kv heads`, () => {
      const rand = rng(5 + H * 10 + KV);
      const [B, T, D] = [2, 5, 4];
      const q = randArray(rand, B * T * H * D), k = randArray(rand, B * T * KV * D), v = randArray(rand, B * T * KV * D);
      const R = randArray(rand, B * T * H * D);
      const L = () => { const o = new F64(q.length), a = new F64(B * H * T * T); attentionForward(o, a, q, k, v, B, T, H, KV, D); return dot(o, R); };
      const o = new F64(q.length), att = new F64(B * H * T * T);
      attentionForward(o, att, q, k, v, B, T, H, KV, D);
      const dq = new F64(q.length), dk = new F64(k.length), dv = new F64(v.length);
      attentionBackward(dq, dk, dv, R, q, k, v, att, B, T, H, KV, D);
      expectGradMatchesFd('attention dq', L, q, dq, all(q.length));
      expectGradMatchesFd('attention dk', L, k, dk, all(k.length));
      expectGradMatchesFd('attention dv', L, v, dv, all(v.length));
    });
  }

  const attnVariants: [string, AttentionOptions][] = [
    ['window 2', { window: 2 }],
    ['window 1', { window: 1 }],
    ['window >= T', { window: 9 }],
    ['softcap 1.5, scale 0.3', { softcap: 1.5, scale: 0.3 }],
    ['window 3 + softcap 2', { window: 3, softcap: 2 }],
  ];
  for (const [name, opts] of attnVariants) {
    it(`attention: dq, dk, dv with ${name}`, () => {
      const rand = rng(11);
      const [B, T, H, KV, D] = [2, 6, 4, 2, 4];
      const q = randArray(rand, B * T * H * D, 2), k = randArray(rand, B * T * KV * D, 2), v = randArray(rand, B * T * KV * D);
      const R = randArray(rand, B * T * H * D);
      const fwd = (o: Float64Array, a: Float64Array) => attentionForward(o, a, q, k, v, B, T, H, KV, D, opts);
      const L = () => { const o = new F64(q.length), a = new F64(B * H * T * T); fwd(o, a); return dot(o, R); };
      const o = new F64(q.length), att = new F64(B * H * T * T);
      fwd(o, att);
      const dq = new F64(q.length), dk = new F64(k.length), dv = new F64(v.length);
      attentionBackward(dq, dk, dv, R, q, k, v, att, B, T, H, KV, D, opts);
      expectGradMatchesFd('attention dq', L, q, dq, all(q.length));
      expectGradMatchesFd('attention dk', L, k, dk, all(k.length));
      expectGradMatchesFd('attention dv', L, v, dv, all(v.length));
      // the window: row i attends exactly to i - window < j <= i
      const w = opts.window ?? T;
      for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) {
        const p = att[i * T + j];
        if (j <= i && j > i - w) expect(p).toBeGreaterThan(0);
        else expect(p).toBe(0);
      }
      if (w === 1) for (let d = 0; d < q.length; d++) expect(dq[d]).toBe(0); // one key: softmax is constant
    });
  }

  it('attention: default options are bit-identical to explicit defaults and window >= T', () => {
    const rand = rng(12);
    const [B, T, H, KV, D] = [1, 5, 2, 1, 3];
    const q = Float32Array.from(randArray(rand, B * T * H * D)), k = Float32Array.from(randArray(rand, B * T * KV * D));
    const v = Float32Array.from(randArray(rand, B * T * KV * D));
    const run = (opts?: AttentionOptions) => {
      const o = new Float32Array(q.length), a = new Float32Array(B * H * T * T);
      attentionForward(o, a, q, k, v, B, T, H, KV, D, opts);
      return [...o, ...a];
    };
    const base = run();
    expect(run({ scale: 1 / Math.sqrt(D), window: null, softcap: null })).toEqual(base);
    expect(run({ window: T })).toEqual(base);
    expect(run({ window: 1000 })).toEqual(base);
  });

  it('geglu: dgate, dup, and gelu_tanh values', () => {
    const rand = rng(13);
    const N = 17;
    const g = randArray(rand, N, 4), u = randArray(rand, N), R = randArray(rand, N);
    const L = () => { const o = new F64(N); gegluForward(o, g, u, N); return dot(o, R); };
    const dg = new F64(N), du = new F64(N);
    gegluBackward(dg, du, R, g, u, N);
    expectGradMatchesFd('geglu dgate', L, g, dg, all(N));
    expectGradMatchesFd('geglu dup', L, u, du, all(N));
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) in Python float64 (torch's approximate='tanh' formula)
    const xs = Float64Array.from([-3, -1, 0.5, 2]), ones = new F64(4).fill(1), o = new F64(4);
    gegluForward(o, xs, ones, 4);
    const want = [-0.0036373920817729943, -0.15880800939172324, 0.34571400982514394, 1.954597694087775];
    for (let i = 0; i < 4; i++) expect(o[i]).toBeCloseTo(want[i], 12);
  });

  it('softcap: dx from the output', () => {
    const rand = rng(14);
    const [N, cap] = [19, 2.5];
    const x = randArray(rand, N, 8), R = randArray(rand, N);
    const L = () => { const o = new F64(N); softcapForward(o, x, N, cap); return dot(o, R); };
    const o = new F64(N);
    softcapForward(o, x, N, cap);
    for (let i = 0; i < N; i++) expect(Math.abs(o[i])).toBeLessThan(cap);
    const dx = new F64(N).fill(0.25); // accumulates
    softcapBackward(dx, R, o, N, cap);
    for (let i = 0; i < N; i++) dx[i] -= 0.25;
    expectGradMatchesFd('softcap dx', L, x, dx, all(N));
  });

  it('swiglu: dgate, dup', () => {
    const rand = rng(6);
    const N = 17;
    const g = randArray(rand, N, 3), u = randArray(rand, N), R = randArray(rand, N);
    const L = () => { const o = new F64(N); swigluForward(o, g, u, N); return dot(o, R); };
    const dg = new F64(N), du = new F64(N);
    swigluBackward(dg, du, R, g, u, N);
    expectGradMatchesFd('swiglu dgate', L, g, dg, all(N));
    expectGradMatchesFd('swiglu dup', L, u, du, all(N));
  });

  it('cross-entropy: dlogits with ignored rows', () => {
    const rand = rng(7);
    const [N, V] = [5, 11];
    const logits = randArray(rand, N * V, 3);
    const targets = Int32Array.from([3, -100, 10, 0, -100]);
    const L = () => crossEntropyForward(null, logits, targets, N, V).loss;
    const lse = new F64(N);
    const { count } = crossEntropyForward(lse, logits, targets, N, V);
    expect(count).toBe(3);
    const dl = new F64(N * V);
    crossEntropyBackward(dl, logits, lse, targets, N, V);
    expectGradMatchesFd('cross-entropy dlogits', L, logits, dl, all(N * V));
    for (let v = 0; v < V; v++) expect(dl[1 * V + v]).toBe(0);
  });

  it('embedding and residual: scatter-add and pass-through', () => {
    const rand = rng(8);
    const [N, C, V] = [4, 3, 5];
    const table = randArray(rand, V * C), R = randArray(rand, N * C);
    const tokens = Int32Array.from([2, 4, 2, 0]); // a repeated token accumulates
    const L = () => { const o = new F64(N * C); embeddingForward(o, table, tokens, N, C, V); return dot(o, R); };
    const dt = new F64(V * C);
    embeddingBackward(dt, R, tokens, N, C);
    expectGradMatchesFd('embedding dtable', L, table, dt, all(V * C));
    const a = randArray(rand, N), b = randArray(rand, N), G = randArray(rand, N);
    const Lr = () => { const o = new F64(N); residualForward(o, a, b, N); return dot(o, G); };
    const da = new F64(N), db = new F64(N);
    residualBackward(da, db, G, N);
    expectGradMatchesFd('residual da', Lr, a, da, all(N));
    expectGradMatchesFd('residual db', Lr, b, db, all(N));
  });
});
