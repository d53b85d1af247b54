import { checkLen, type FloatArray } from '../types';

/**
 * Causal grouped-query self-attention (scaled dot product, softmax over keys j <= i).
 * Query head h reads KV head floor(h / (H / KV)): each KV head serves H/KV consecutive query
 * heads, as Hugging Face's `repeat_kv` does.
 * out (B, T, H, D)      softmax(q k^T / sqrt(D) + causal mask) v, per head
 * att (B, H, T, T)      written: the softmax probabilities (0 above the diagonal), kept for the backward
 * q   (B, T, H, D)      after RoPE
 * k   (B, T, KV, D)     after RoPE
 * v   (B, T, KV, D)
 */
export function attentionForward(
  out: FloatArray, att: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray,
  B: number, T: number, H: number, KV: number, D: number,
): void {
  checkArgs(q, k, v, B, T, H, KV, D);
  checkLen('attention out', out, B * T * H * D);
  checkLen('attention att', att, B * H * T * T);
  const scale = 1 / Math.sqrt(D);
  const group = H / KV;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      for (let i = 0; i < T; i++) {
        const qo = ((b * T + i) * H + h) * D;
        const row = ((b * H + h) * T + i) * T; // att row (b, h, i, :)
        let max = -Infinity;
        for (let j = 0; j <= i; j++) {
          const ko = ((b * T + j) * KV + kvh) * D;
          let s = 0;
          for (let d = 0; d < D; d++) s += q[qo + d] * k[ko + d];
          att[row + j] = s * scale;
          if (att[row + j] > max) max = att[row + j];
        }
        let sum = 0;
        for (let j = 0; j <= i; j++) {
          const e = Math.exp(att[row + j] - max); // subtract the row max so exp cannot overflow
          att[row + j] = e;
          sum += e;
        }
        for (let j = 0; j <= i; j++) att[row + j] /= sum;
        for (let j = i + 1; j < T; j++) att[row + j] = 0;
        for (let d = 0; d < D; d++) {
          let s = 0;
          for (let j = 0; j <= i; j++) s += att[row + j] * v[((b * T + j) * KV + kvh) * D + d];
          out[qo + d] = s;
        }
      }
    }
  }
}

/**
 * Backward of attentionForward, accumulated. With P = att, S the scaled scores:
 *   dP = dout v^T,  dS = P * (dP - rowsum(P * dP)),  dq = dS k / sqrt(D),
 *   dk += dS^T q / sqrt(D),  dv += P^T dout   (dk, dv summed over the query heads of a group)
 * dq (B, T, H, D), dk (B, T, KV, D), dv (B, T, KV, D)
 * dout (B, T, H, D); q, k, v, att as in the forward
 */
export function attentionBackward(
  dq: FloatArray, dk: FloatArray, dv: FloatArray, dout: FloatArray,
  q: FloatArray, k: FloatArray, v: FloatArray, att: FloatArray,
  B: number, T: number, H: number, KV: number, D: number,
): void {
  checkArgs(q, k, v, B, T, H, KV, D);
  const scale = 1 / Math.sqrt(D);
  const group = H / KV;
  const dS = new Float64Array(T); // one row of dS
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      for (let i = 0; i < T; i++) {
        const qo = ((b * T + i) * H + h) * D;
        const row = ((b * H + h) * T + i) * T;
        let rowDot = 0; // sum_j P_ij dP_ij
        for (let j = 0; j <= i; j++) {
          const vo = ((b * T + j) * KV + kvh) * D;
          let dp = 0;
          for (let d = 0; d < D; d++) dp += dout[qo + d] * v[vo + d];
          dS[j] = dp;
          rowDot += att[row + j] * dp;
        }
        for (let j = 0; j <= i; j++) {
          const p = att[row + j];
          const ds = p * (dS[j] - rowDot) * scale; // gradient of the raw dot product q.k
          const ko = ((b * T + j) * KV + kvh) * D;
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

function checkArgs(q: FloatArray, k: FloatArray, v: FloatArray, B: number, T: number, H: number, KV: number, D: number): void {
  if (H % KV !== 0) throw new RangeError(`attention: ${H} heads is not a multiple of ${KV} KV heads`);
  checkLen('attention q', q, B * T * H * D);
  checkLen('attention k', k, B * T * KV * D);
  checkLen('attention v', v, B * T * KV * D);
}
