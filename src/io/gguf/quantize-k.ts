/**
 * ggml's K-quants that llama.cpp's Q4_K_M mix uses, byte for byte as llama.cpp's reference
 * quantizers (ggml-quants.c: quantize_row_q4_K_ref with make_qkx2_quants, quantize_row_q6_K_ref with
 * make_qx_quants; what llama-quantize runs without an importance matrix). Every float operation is
 * single precision as C does it (Math.fround after each; a double result rounded once to f32 equals
 * the f32 operation for + - * / and sqrt), in C's order of evaluation, and rounding to an integer is
 * llama.cpp's nearest_int (halves to even). A super-block is 256 values.
 *
 * Q4_K (144 bytes): f16 d, f16 dmin, scales[12], qs[128]. Eight sub-blocks of 32 values, each
 *   x ~ d * sc_j * q - dmin * m_j with q in 0..15 and 6-bit sc_j, m_j packed in `scales`:
 *   j < 4: scales[j] = sc_j | (sc_{j+4} >> 4) << 6, scales[j + 4] = m_j | (m_{j+4} >> 4) << 6;
 *   j >= 4: scales[j + 4] = (sc_j & 15) | (m_j & 15) << 4.
 *   qs: for each 64 values, byte l holds value l (low nibble) and value l + 32 (high nibble).
 * Q6_K (210 bytes): ql[128], qh[64], int8 scales[16], f16 d. Sixteen sub-blocks of 16 values,
 *   x ~ d * scale_j * (q - 32) with q in 0..63: low nibbles in ql, top two bits in qh.
 */
import { f16BitsToF32, f32ToF16Bits } from '../../core/half';

const fr = Math.fround;
export const QK_K = 256;
/** GROUP_MAX_EPS: below this a group counts as all zero. */
const GROUP_MAX_EPS = fr(1e-15);
const RDELTA = fr(0.1);

/** llama.cpp's nearest_int: adds 1.5 x 2^23 in f32, so halves round to even (|v| < 2^22). */
export const nearestInt = (v: number): number => fr(v + 12582912) - 12582912;
const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

function checkSuperBlocks(type: string, n: number): number {
  if (n % QK_K !== 0) throw new RangeError(`${type}: ${n} values is not a whole number of ${QK_K}-value super-blocks`);
  return n / QK_K;
}

/** x - min of the values make_qkx2_quants fits (rounded to f32 on store, as C's float), reused for every sub-block. */
const shifted = new Float32Array(32);

/**
 * make_qkx2_quants: codes L[0..n) in 0..nmax and (scale, min) with x ~ scale * L - min, the
 * weighted least-squares fit of the best of nstep + 1 trial scales (squared errors: Q4_K's use_mad
 * false; trial scales (rmin + 0.1 is + nmax) / (max - min)). Writes L and fit[0] = scale,
 * fit[1] = min (no object per sub-block: this runs for every 32 values of a model).
 */
function makeQkx2Quants(
  x: Float32Array, x0: number, n: number, nmax: number, w: Float32Array, L: Uint8Array, l0: number, aux: Uint8Array,
  rmin: number, nstep: number, fit: Float32Array,
): void {
  let min = x[x0];
  let max = x[x0];
  let sumW = w[0];
  let sumX = fr(sumW * x[x0]);
  for (let i = 1; i < n; i++) {
    const v = x[x0 + i];
    if (v < min) min = v;
    if (v > max) max = v;
    sumW = fr(sumW + w[i]);
    sumX = fr(sumX + fr(w[i] * v));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0, l0, l0 + n);
    fit[0] = 0;
    fit[1] = -min;
    return;
  }
  let iscale = fr(nmax / fr(max - min));
  let scale = fr(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const l = clamp(nearestInt(fr(iscale * fr(x[x0 + i] - min))), 0, nmax);
    L[l0 + i] = l;
    const diff = fr(fr(fr(scale * l) + min) - x[x0 + i]);
    bestError = fr(bestError + fr(w[i] * fr(diff * diff)));
  }
  // x - min of each value, for the codes; refreshed when a better fit moves `min`.
  for (let i = 0; i < n; i++) shifted[i] = x[x0 + i] - min;
  for (let is = 0; is <= nstep; is++) {
    // `min` is the best fit's so far: the trial scales and the codes move with it, as in C.
    iscale = fr(fr(fr(rmin + fr(RDELTA * is)) + nmax) / fr(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = clamp(nearestInt(fr(iscale * shifted[i])), 0, nmax);
      aux[i] = l;
      const wl = fr(w[i] * l);
      sumL = fr(sumL + wl);
      sumL2 = fr(sumL2 + fr(wl * l));
      sumXL = fr(sumXL + fr(wl * x[x0 + i]));
    }
    const D = fr(fr(sumW * sumL2) - fr(sumL * sumL));
    if (!(D > 0)) continue;
    let thisScale = fr(fr(fr(sumW * sumXL) - fr(sumX * sumL)) / D);
    let thisMin = fr(fr(fr(sumL2 * sumX) - fr(sumL * sumXL)) / D);
    if (thisMin > 0) {
      thisMin = 0;
      thisScale = fr(sumXL / sumL2);
    }
    let curError = 0;
    for (let i = 0; i < n; i++) {
      const diff = fr(fr(fr(thisScale * aux[i]) + thisMin) - x[x0 + i]);
      curError = fr(curError + fr(w[i] * fr(diff * diff)));
    }
    if (curError < bestError) {
      L.set(aux.subarray(0, n), l0);
      bestError = curError;
      scale = thisScale;
      if (thisMin !== min) {
        min = thisMin;
        for (let i = 0; i < n; i++) shifted[i] = x[x0 + i] - min;
      }
    }
  }
  fit[0] = scale;
  fit[1] = -min;
}

/** clamp(nearest_int(iscale * v), -nmax, nmax - 1): make_qx_quants' code of one value. */
const qxCode = (iscale: number, v: number, nmax: number) => clamp(nearestInt(fr(iscale * v)), -nmax, nmax - 1);

/** Trial codes of make_qx_quants (at most 16 values), reused: it runs for every 16 values of a model. */
const qxTrial = new Int8Array(16);

/**
 * make_qx_quants with rmse_type 1 (weights x^2) and no importance: codes L = l + nmax with l in
 * [-nmax, nmax), x ~ scale * l, the best of 19 trial scales. Writes L; returns the scale.
 */
function makeQxQuants(x: Float32Array, x0: number, n: number, nmax: number, L: Int8Array, l0: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[x0 + i]);
    if (ax > amax) {
      amax = ax;
      max = x[x0 + i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    L.fill(0, l0, l0 + n);
    return 0;
  }
  // sum_i w l x and sum_i w l^2 over the codes of each trial scale (w = x^2), codes kept in qxTrial.
  let iscale = fr(-nmax / max);
  let sumlx = 0;
  let suml2 = 0;
  for (let i = 0; i < n; i++) {
    const v = x[x0 + i];
    const l = qxCode(iscale, v, nmax);
    L[l0 + i] = l + nmax;
    const w = fr(v * v);
    sumlx = fr(sumlx + fr(fr(w * v) * l));
    suml2 = fr(suml2 + fr(fr(w * l) * l));
  }
  let scale = suml2 ? fr(sumlx / suml2) : 0;
  let best = fr(scale * sumlx);
  for (let is = -9; is <= 9; is++) {
    if (is === 0) continue;
    iscale = fr(-fr(nmax + fr(RDELTA * is)) / max);
    sumlx = 0;
    suml2 = 0;
    for (let i = 0; i < n; i++) {
      const v = x[x0 + i];
      const l = qxCode(iscale, v, nmax);
      qxTrial[i] = l;
      const w = fr(v * v);
      sumlx = fr(sumlx + fr(fr(w * v) * l));
      suml2 = fr(suml2 + fr(fr(w * l) * l));
    }
    if (suml2 > 0 && fr(sumlx * sumlx) > fr(best * suml2)) {
      for (let i = 0; i < n; i++) L[l0 + i] = qxTrial[i] + nmax;
      scale = fr(sumlx / suml2);
      best = fr(scale * sumlx);
    }
  }
  return scale;
}

/** x (n, a multiple of 256) -> n/256 Q4_K blocks of 144 bytes (quantize_row_q4_K_ref). */
export function quantizeQ4_K(x: Float32Array): Uint8Array {
  const nb = checkSuperBlocks('Q4_K', x.length);
  const out = new Uint8Array(nb * 144);
  const dv = new DataView(out.buffer);
  const L = new Uint8Array(QK_K);
  const aux = new Uint8Array(32);
  const w = new Float32Array(32);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  const fit = new Float32Array(2);
  for (let b = 0; b < nb; b++) {
    const xb = b * QK_K;
    const o = b * 144;
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 8; j++) {
      const x0 = xb + 32 * j;
      let sumX2 = 0;
      for (let l = 0; l < 32; l++) sumX2 = fr(sumX2 + fr(x[x0 + l] * x[x0 + l]));
      const avX = fr(Math.sqrt(fr(sumX2 / 32)));
      for (let l = 0; l < 32; l++) w[l] = fr(avX + Math.abs(x[x0 + l]));
      makeQkx2Quants(x, x0, 32, 15, w, L, 32 * j, aux, -1, 20, fit);
      scales[j] = fit[0];
      mins[j] = fit[1];
      if (fit[0] > maxScale) maxScale = fit[0];
      if (fit[1] > maxMin) maxMin = fit[1];
    }
    const invScale = maxScale > 0 ? fr(63 / maxScale) : 0;
    const invMin = maxMin > 0 ? fr(63 / maxMin) : 0;
    const sc = o + 4; // scales[12]
    for (let j = 0; j < 8; j++) {
      // uint8_t ls = nearest_int(...): wraps modulo 256 before the clamp, as C's conversion does.
      const ls = Math.min(63, nearestInt(fr(invScale * scales[j])) & 0xff);
      const lm = Math.min(63, nearestInt(fr(invMin * mins[j])) & 0xff);
      if (j < 4) {
        out[sc + j] = ls;
        out[sc + j + 4] = lm;
      } else {
        out[sc + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
        out[sc + j - 4] |= (ls >> 4) << 6;
        out[sc + j] |= (lm >> 4) << 6;
      }
    }
    dv.setUint16(o, f32ToF16Bits(fr(maxScale / 63)), true);
    dv.setUint16(o + 2, f32ToF16Bits(fr(maxMin / 63)), true);
    const d = f16BitsToF32(dv.getUint16(o, true));
    const dmin = f16BitsToF32(dv.getUint16(o + 2, true));
    for (let j = 0; j < 8; j++) {
      const [s, m] = scaleMinK4(out, sc, j);
      const dj = fr(d * s);
      if (!dj) continue; // the codes make_qkx2_quants chose stay
      const dm = fr(dmin * m);
      for (let i = 0; i < 32; i++) L[32 * j + i] = clamp(nearestInt(fr(fr(x[xb + 32 * j + i] + dm) / dj)), 0, 15);
    }
    for (let j = 0; j < QK_K; j += 64) {
      const q = o + 16 + j / 2;
      for (let l = 0; l < 32; l++) out[q + l] = L[j + l] | (L[j + l + 32] << 4);
    }
  }
  return out;
}

/** get_scale_min_k4: the 6-bit scale and min of sub-block j from the packed 12 bytes at `at`. */
function scaleMinK4(q: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [q[at + j] & 63, q[at + j + 4] & 63];
  return [(q[at + j + 4] & 0xf) | ((q[at + j - 4] >> 6) << 4), (q[at + j + 4] >> 4) | ((q[at + j] >> 6) << 4)];
}

/** x (n, a multiple of 256) -> n/256 Q6_K blocks of 210 bytes (quantize_row_q6_K_ref). */
export function quantizeQ6_K(x: Float32Array): Uint8Array {
  const nb = checkSuperBlocks('Q6_K', x.length);
  const out = new Uint8Array(nb * 210);
  const dv = new DataView(out.buffer);
  const L = new Int8Array(QK_K);
  const scales = new Float32Array(16);
  for (let b = 0; b < nb; b++) {
    const xb = b * QK_K;
    const o = b * 210;
    let maxScale = 0;
    let maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      const scale = makeQxQuants(x, xb + 16 * ib, 16, 32, L, 16 * ib);
      scales[ib] = scale;
      if (Math.abs(scale) > maxAbsScale) {
        maxAbsScale = Math.abs(scale);
        maxScale = scale;
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) continue; // an all-zero block: every byte 0, d = +0
    const iscale = fr(-128 / maxScale);
    dv.setUint16(o + 208, f32ToF16Bits(fr(1 / iscale)), true);
    for (let ib = 0; ib < 16; ib++) dv.setInt8(o + 192 + ib, Math.min(127, nearestInt(fr(iscale * scales[ib]))));
    const d = f16BitsToF32(dv.getUint16(o + 208, true));
    for (let j = 0; j < 16; j++) {
      const dj = fr(d * dv.getInt8(o + 192 + j));
      if (!dj) continue; // the codes make_qx_quants chose stay
      for (let i = 0; i < 16; i++) L[16 * j + i] = clamp(nearestInt(fr(x[xb + 16 * j + i] / dj)), -32, 31) + 32;
    }
    for (let j = 0; j < QK_K; j += 128) {
      const ql = o + j / 2;
      const qh = o + 128 + j / 4;
      for (let l = 0; l < 32; l++) {
        const a = L[j + l];
        const b2 = L[j + l + 32];
        const c = L[j + l + 64];
        const e = L[j + l + 96];
        out[ql + l] = (a & 0xf) | ((c & 0xf) << 4);
        out[ql + l + 32] = (b2 & 0xf) | ((e & 0xf) << 4);
        out[qh + l] = (a >> 4) | ((b2 >> 4) << 2) | ((c >> 4) << 4) | ((e >> 4) << 6);
      }
    }
  }
  return out;
}

/** The f32 values llama.cpp reads from Q4_K blocks (dequantize_row_q4_K). */
export function dequantizeQ4_K(bytes: Uint8Array): Float32Array {
  const nb = bytes.byteLength / 144;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(nb * QK_K);
  for (let b = 0; b < nb; b++) {
    const o = b * 144;
    const d = f16BitsToF32(dv.getUint16(o, true));
    const dmin = f16BitsToF32(dv.getUint16(o + 2, true));
    for (let j = 0; j < 8; j += 2) {
      const [s1, m1] = scaleMinK4(bytes, o + 4, j);
      const [s2, m2] = scaleMinK4(bytes, o + 4, j + 1);
      const [d1, n1, d2, n2] = [fr(d * s1), fr(dmin * m1), fr(d * s2), fr(dmin * m2)];
      const q = o + 16 + 16 * j;
      const y = b * QK_K + 32 * j;
      for (let l = 0; l < 32; l++) {
        out[y + l] = fr(fr(d1 * (bytes[q + l] & 0xf)) - n1);
        out[y + 32 + l] = fr(fr(d2 * (bytes[q + l] >> 4)) - n2);
      }
    }
  }
  return out;
}

/** The f32 values llama.cpp reads from Q6_K blocks (dequantize_row_q6_K). */
export function dequantizeQ6_K(bytes: Uint8Array): Float32Array {
  const nb = bytes.byteLength / 210;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(nb * QK_K);
  for (let b = 0; b < nb; b++) {
    const o = b * 210;
    const d = f16BitsToF32(dv.getUint16(o + 208, true));
    for (let n = 0; n < QK_K; n += 128) {
      const ql = o + n / 2;
      const qh = o + 128 + n / 4;
      const sc = o + 192 + n / 16;
      const y = b * QK_K + n;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const h = bytes[qh + l];
        const q1 = ((bytes[ql + l] & 0xf) | ((h & 3) << 4)) - 32;
        const q2 = ((bytes[ql + l + 32] & 0xf) | (((h >> 2) & 3) << 4)) - 32;
        const q3 = ((bytes[ql + l] >> 4) | (((h >> 4) & 3) << 4)) - 32;
        const q4 = ((bytes[ql + l + 32] >> 4) | (((h >> 6) & 3) << 4)) - 32;
        out[y + l] = fr(fr(d * dv.getInt8(sc + is)) * q1);
        out[y + l + 32] = fr(fr(d * dv.getInt8(sc + is + 2)) * q2);
        out[y + l + 64] = fr(fr(d * dv.getInt8(sc + is + 4)) * q3);
        out[y + l + 96] = fr(fr(d * dv.getInt8(sc + is + 6)) * q4);
      }
    }
  }
  return out;
}
