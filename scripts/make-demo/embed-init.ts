/**
 * A data-dependent initialisation of the (frozen) embedding table: each byte's code is its row of
 * a rank-C factorisation of the corpus' next-token log-probabilities (top singular vectors, found by
 * subspace iteration), so bytes that are followed alike (the vowels; the digits) start close
 * together, as in a trained model. Bytes the corpus never shows, and the special tokens, keep
 * random codes. Every row is scaled to RMS 1, the scale RMSNorm reads anyway.
 */
import { Prng } from '../../src/core/rng';
import { BOS, BYTE_OFFSET } from './tokenizer-files';

/** Next-token log-probabilities (V, V), each row centred, for rows seen at least `minCount` times; null otherwise. */
function bigramLogits(stream: Uint16Array, V: number, smoothing = 0.5, minCount = 20): (Float64Array | null)[] {
  const counts = Array.from({ length: V }, () => new Float64Array(V));
  for (let i = 0; i + 1 < stream.length; i++) counts[stream[i]][stream[i + 1]]++;
  // BOS precedes the first token of every training window (a word start): the tokens after a space.
  for (let i = 0; i + 1 < stream.length; i++) if (stream[i] === BYTE_OFFSET + 0x20) counts[BOS][stream[i + 1]]++;
  return counts.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    if (total < minCount) return null;
    const out = new Float64Array(V);
    for (let v = 0; v < V; v++) out[v] = Math.log((row[v] + smoothing) / (total + smoothing * V));
    const mean = out.reduce((a, b) => a + b, 0) / V;
    for (let v = 0; v < V; v++) out[v] -= mean;
    return out;
  });
}

/** Orthonormalise the columns of Q (n, k), in place (modified Gram-Schmidt). */
function orthonormalise(Q: Float64Array[], n: number): void {
  for (let j = 0; j < Q.length; j++) {
    for (let i = 0; i < j; i++) {
      let d = 0;
      for (let r = 0; r < n; r++) d += Q[i][r] * Q[j][r];
      for (let r = 0; r < n; r++) Q[j][r] -= d * Q[i][r];
    }
    let norm = 0;
    for (let r = 0; r < n; r++) norm += Q[j][r] * Q[j][r];
    norm = Math.sqrt(norm) || 1;
    for (let r = 0; r < n; r++) Q[j][r] /= norm;
  }
}

/** Embedding table (V, C) for a token stream (seeded random codes for the rows it does not show). */
export function bigramEmbeddings(stream: Uint16Array, V: number, C: number, seed: number, iterations = 30): Float32Array<ArrayBuffer> {
  const rows = bigramLogits(stream, V);
  const seen = rows.map((r, i) => (r ? i : -1)).filter((i) => i >= 0);
  const L = seen.map((i) => rows[i]!); // (n, V)
  const n = L.length;
  const k = Math.min(C, n);
  // M = L L^T (n, n): its top eigenvectors are L's top left singular vectors.
  const M = Array.from({ length: n }, (_, a) => Float64Array.from({ length: n }, (_, b) => L[a].reduce((s, x, v) => s + x * L[b][v], 0)));
  const rng = new Prng(seed, 21);
  const Q = Array.from({ length: k }, () => Float64Array.from({ length: n }, () => rng.nextDouble() - 0.5));
  orthonormalise(Q, n);
  for (let it = 0; it < iterations; it++) {
    for (let j = 0; j < k; j++) {
      const next = new Float64Array(n);
      for (let a = 0; a < n; a++) {
        let s = 0;
        for (let b = 0; b < n; b++) s += M[a][b] * Q[j][b];
        next[a] = s;
      }
      Q[j] = next;
    }
    orthonormalise(Q, n);
  }
  // Singular values: sqrt of the Rayleigh quotients; codes U sqrt(S) (n, k).
  const sv = Q.map((q) => {
    let s = 0;
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) s += q[a] * M[a][b] * q[b];
    return Math.sqrt(Math.max(s, 0));
  });
  const out = new Float32Array(V * C);
  for (let i = 0; i < V * C; i++) out[i] = (rng.nextDouble() - 0.5) * Math.sqrt(12); // unit-variance random codes
  seen.forEach((row, a) => {
    for (let j = 0; j < C; j++) out[row * C + j] = j < k ? Q[j][a] * Math.sqrt(sv[j]) : 0;
  });
  for (let v = 0; v < V; v++) {
    let ss = 0;
    for (let j = 0; j < C; j++) ss += out[v * C + j] ** 2;
    const scale = 1 / Math.sqrt(ss / C || 1);
    for (let j = 0; j < C; j++) out[v * C + j] *= scale;
  }
  return out;
}
