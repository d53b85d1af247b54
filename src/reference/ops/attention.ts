import { checkLen, type FloatArray } from '../types';

/** Variants of the score computation (Gemma 2/3); the defaults are Llama's attention. */
export interface AttentionOptions {
  /** Multiplier of q.k; default 1/sqrt(D). */
  scale?: number;
  /** Sliding window in tokens: query i sees keys j with i - window < j <= i; null/absent: full causal. */
  window?: number | null;
  /** Scores s -> softcap * tanh(s / softcap), after scaling, before the mask and softmax (Gemma 2); null/absent: none. */
  softcap?: number | null;
}

/** The first key a query sees: max(0, i - window + 1), or 0 without a window. */
export function attentionFirstKey(i: number, window: number | null | undefined): number {
  return window ? Math.max(0, i - window + 1) : 0;
}

/**
 * Causal grouped-query self-attention (scaled dot product, softmax over keys j <= i, or the
 * sliding window i - window < j <= i; see AttentionOptions).
 * Query head h reads KV head floor(h / (H / KV)): each KV head serves H/KV consecutive query
 * heads, as Hugging Face's `repeat_kv` does.
 * out (B, T, H, D)      softmax(q k^T / sqrt(D) + causal mask) v, per head
 * att (B, H, T, T)      written: the softmax probabilities (0 outside the causal window), kept for the backward
 * q   (B, T, H, D)      after RoPE
 * k   (B, T, KV, D)     after RoPE
 * v   (B, T, KV, D)
 * lse (B, H, T)         optional, written: log sum_j exp(S_ij) per row, what the GPU kernel keeps
 */
export function attentionForward(
  out: FloatArray, att: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray,
  B: number, T: number, H: number, KV: number, D: number, opts: AttentionOptions = {}, lse?: FloatArray,
): void {
  checkArgs(q, k, v, B, T, H, KV, D, opts);
  checkLen('attention out', out, B * T * H * D);
  checkLen('attention att', att, B * H * T * T);
  if (lse) checkLen('attention lse', lse, B * H * T);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const cap = opts.softcap ?? null;
  const group = H / KV;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      for (let i = 0; i < T; i++) {
        const qo = ((b * T + i) * H + h) * D;
        const row = ((b * H + h) * T + i) * T; // att row (b, h, i, :)
        const j0 = attentionFirstKey(i, opts.window);
        let max = -Infinity;
        for (let j = j0; j <= i; j++) {
          const ko = ((b * T + j) * KV + kvh) * D;
          let s = 0;
          for (let d = 0; d < D; d++) s += q[qo + d] * k[ko + d];
          att[row + j] = cap === null ? s * scale : cap * Math.tanh((s * scale) / cap);
          if (att[row + j] > max) max = att[row + j];
        }
        let sum = 0;
        for (let j = j0; j <= i; j++) {
          const e = Math.exp(att[row + j] - max); // subtract the row max so exp cannot overflow
          att[row + j] = e;
          sum += e;
        }
        if (lse) lse[(b * H + h) * T + i] = max + Math.log(sum);
        for (let j = j0; j <= i; j++) att[row + j] /= sum;
        for (let j = 0; j < j0; j++) att[row + j] = 0;
        for (let j = i + 1; j < T; j++) att[row + j] = 0;
        for (let d = 0; d < D; d++) {
          let s = 0;
          for (let j = j0; j <= i; j++) s += att[row + j] * v[((b * T + j) * KV + kvh) * D + d];
          out[qo + d] = s;
        }
      }
    }
  }
}

/**
 * Backward of attentionForward, accumulated. With P = att, S the (capped) scaled scores:
 *   dP = dout v^T,  dS = P * (dP - rowsum(P * dP)),  dq = dS k * scale,
 *   dk += dS^T q * scale,  dv += P^T dout   (dk, dv summed over the query heads of a group)
 * With a softcap, S = cap tanh(s / cap) is recomputed from q and k and dS is multiplied by
 * 1 - (S / cap)^2. `opts` must be the forward's.
 * dq (B, T, H, D), dk (B, T, KV, D), dv (B, T, KV, D)
 * dout (B, T, H, D); q, k, v, att as in the forward
 * stored, optional: the forward's output (B, T, H, D) and lse (B, H, T) as the GPU keeps them.
 * Given, P is recomputed as exp(S - lse) from q and k (att is not read) and rowsum(P * dP) is
 * taken as rowsum(dout * out), as the GPU kernel does: equal to the above in exact arithmetic, and
 * what bf16 activations (q, k and out rounded, lse not) must follow.
 */
export function attentionBackward(
  dq: FloatArray, dk: FloatArray, dv: FloatArray, dout: FloatArray,
  q: FloatArray, k: FloatArray, v: FloatArray, att: FloatArray,
  B: number, T: number, H: number, KV: number, D: number, opts: AttentionOptions = {},
  stored?: { out: FloatArray; lse: FloatArray },
): void {
  checkArgs(q, k, v, B, T, H, KV, D, opts);
  if (stored) {
    checkLen('attention out', stored.out, B * T * H * D);
    checkLen('attention lse', stored.lse, B * H * T);
  }
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const cap = opts.softcap ?? null;
  const group = H / KV;
  const dS = new Float64Array(T); // one row of dS
  const P = new Float64Array(T); //  one row of P
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      for (let i = 0; i < T; i++) {
        const qo = ((b * T + i) * H + h) * D;
        const row = ((b * H + h) * T + i) * T;
        const j0 = attentionFirstKey(i, opts.window);
        for (let j = j0; j <= i; j++) {
          if (!stored) {
            P[j] = att[row + j];
            continue;
          }
          const ko = ((b * T + j) * KV + kvh) * D;
          let s = 0;
          for (let d = 0; d < D; d++) s += q[qo + d] * k[ko + d];
          const S = cap === null ? s * scale : cap * Math.tanh((s * scale) / cap);
          P[j] = Math.exp(S - stored.lse[(b * H + h) * T + i]);
        }
        let rowDot = 0; // sum_j P_ij dP_ij
        for (let j = j0; j <= i; j++) {
          const vo = ((b * T + j) * KV + kvh) * D;
          let dp = 0;
          for (let d = 0; d < D; d++) dp += dout[qo + d] * v[vo + d];
          dS[j] = dp;
          rowDot += P[j] * dp;
        }
        if (stored) {
          rowDot = 0;
          for (let d = 0; d < D; d++) rowDot += dout[qo + d] * stored.out[qo + d];
        }
        for (let j = j0; j <= i; j++) {
          const p = P[j];
          const ko = ((b * T + j) * KV + kvh) * D;
          let ds = p * (dS[j] - rowDot) * scale; // gradient of the raw dot product q.k
          if (cap !== null) {
            let s = 0;
            for (let d = 0; d < D; d++) s += q[qo + d] * k[ko + d];
            const t = Math.tanh((s * scale) / cap);
            ds *= 1 - t * t;
          }
          for (let d = 0; d < D; d++) {
            dq[qo + d] += ds * k[ko + d];
            dk[ko + d] += ds * q[qo + d];
            dv[ko + d] += p * dout[qo + d];
          }
        }
      }
    }
  }
}

function checkArgs(
  q: FloatArray, k: FloatArray, v: FloatArray, B: number, T: number, H: number, KV: number, D: number, opts: AttentionOptions,
): void {
  if (H % KV !== 0) throw new RangeError(`attention: ${H} heads is not a multiple of ${KV} KV heads`);
  if (opts.window != null && !(Number.isInteger(opts.window) && opts.window >= 1)) {
    throw new RangeError(`attention: window must be an integer >= 1, got ${opts.window}`);
  }
  if (opts.softcap != null && !(opts.softcap > 0)) throw new RangeError(`attention: softcap must be positive, got ${opts.softcap}`);
  checkLen('attention q', q, B * T * H * D);
  checkLen('attention k', k, B * T * KV * D);
  checkLen('attention v', v, B * T * KV * D);
}
