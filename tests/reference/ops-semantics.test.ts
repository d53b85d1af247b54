import { describe, expect, it } from 'vitest';
import { attentionForward } from '../../src/reference/ops/attention';
import { crossEntropyBackward, crossEntropyForward } from '../../src/reference/ops/cross-entropy';
import { clipGradNorm, globalGradNorm } from '../../src/reference/ops/grad-norm';
import { linearForward } from '../../src/reference/ops/linear';
import { rmsnormForward } from '../../src/reference/ops/rmsnorm';
import { expectClose, randArray, rng } from './helpers';

// Forward semantics that finite differences cannot see (a wrong but self-consistent op passes FD).
describe('op forward semantics', () => {
  it('linear is x W^T + b with W as (out, in)', () => {
    const out = new Float64Array(2);
    linearForward(out, Float64Array.from([1, 2]), Float64Array.from([1, 0, 3, 4]), Float64Array.from([10, 20]), 1, 2, 2);
    expect([...out]).toEqual([11, 31]);
  });

  it('rmsnorm divides by the root mean square (plus eps) and scales by w', () => {
    const out = new Float64Array(2);
    rmsnormForward(out, null, Float64Array.from([3, 4]), Float64Array.from([1, 2]), 1, 2, 0);
    const rms = Math.sqrt(12.5);
    expectClose('rmsnorm', out, [3 / rms, 8 / rms], 1e-15, 1e-14);
  });

  it("GQA equals multi-head attention on HF's repeat_kv expansion; causal; rows sum to 1", () => {
    const rand = rng(21);
    const [B, T, H, KV, D] = [2, 4, 6, 2, 3];
    const nRep = H / KV;
    const q = randArray(rand, B * T * H * D), k = randArray(rand, B * T * KV * D), v = randArray(rand, B * T * KV * D);
    // repeat_kv: (B, KV, T, D) -> expand (B, KV, nRep, T, D) -> reshape (B, KV*nRep, T, D)
    const kr = new Float64Array(B * T * H * D), vr = new Float64Array(B * T * H * D);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let kv = 0; kv < KV; kv++) for (let rep = 0; rep < nRep; rep++) {
      for (let d = 0; d < D; d++) {
        const src = ((b * T + t) * KV + kv) * D + d;
        const dst = ((b * T + t) * H + kv * nRep + rep) * D + d;
        kr[dst] = k[src];
        vr[dst] = v[src];
      }
    }
    const gqa = new Float64Array(q.length), mha = new Float64Array(q.length);
    const att = new Float64Array(B * H * T * T);
    attentionForward(gqa, att, q, k, v, B, T, H, KV, D);
    attentionForward(mha, new Float64Array(att.length), q, kr, vr, B, T, H, H, D);
    expectClose('gqa vs repeat_kv', gqa, mha, 1e-14, 1e-12);
    for (let row = 0; row < B * H * T; row++) {
      const i = row % T;
      let s = 0;
      for (let j = 0; j < T; j++) {
        if (j > i) expect(att[row * T + j]).toBe(0);
        s += att[row * T + j];
      }
      expect(s).toBeCloseTo(1, 12);
    }
    // Changing the last position's k and v leaves every earlier output unchanged.
    const k2 = k.slice(), v2 = v.slice();
    for (let b = 0; b < B; b++) for (let j = 0; j < KV * D; j++) { k2[((b * T + T - 1) * KV) * D + j] += 1; v2[((b * T + T - 1) * KV) * D + j] -= 1; }
    const out2 = new Float64Array(q.length);
    attentionForward(out2, att, q, k2, v2, B, T, H, KV, D);
    for (let b = 0; b < B; b++) for (let j = 0; j < (T - 1) * H * D; j++) expect(out2[b * T * H * D + j]).toBe(gqa[b * T * H * D + j]);
  });

  it('cross-entropy: hand-computed value, all-ignored batch, bad target', () => {
    const logits = Float64Array.from([1, 2, 3, 0, 0, 0]);
    const { loss, count } = crossEntropyForward(null, logits, Int32Array.from([0, -100]), 2, 3);
    expect(count).toBe(1);
    expect(loss).toBeCloseTo(Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 1, 14);
    const none = Int32Array.from([-100, -100]);
    const lse = new Float64Array(2);
    expect(crossEntropyForward(lse, logits, none, 2, 3)).toEqual({ loss: 0, count: 0 });
    const dl = new Float64Array(6);
    crossEntropyBackward(dl, logits, lse, none, 2, 3);
    expect([...dl]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(() => crossEntropyForward(null, logits, Int32Array.from([3, 0]), 2, 3)).toThrow(RangeError);
  });

  it('clip-by-norm as torch.nn.utils.clip_grad_norm_', () => {
    const a = Float64Array.from([3, 0]), b = Float64Array.from([0, 4]);
    expect(globalGradNorm([a, b])).toBe(5);
    expect(clipGradNorm([a, b], 10)).toBe(5); // below the limit: untouched
    expect([...a, ...b]).toEqual([3, 0, 0, 4]);
    expect(clipGradNorm([a, b], 1)).toBe(5); // returns the norm before clipping
    const coef = 1 / (5 + 1e-6);
    expectClose('clipped', [...a, ...b], [3 * coef, 0, 0, 4 * coef], 0, 1e-15);
  });
});
