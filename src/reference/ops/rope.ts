import type { RopeSpec } from '../../config/rope';
import { checkLen, type FloatArray, type FloatCtor } from '../types';


/**
 * The D/2 inverse frequencies in float64: inv_freq_i = 1 / theta^(2i / D), then the scaling.
 * Follows transformers' formulas step by step (it computes them in float32; we round once, later).
 */
export function ropeInvFreq(D: number, rope: number | RopeSpec): Float64Array {
  if (D % 2 !== 0) throw new RangeError(`rope: head dim ${D} must be even`);
  const { theta, scaling } = typeof rope === 'number' ? { theta: rope, scaling: null } : rope;
  const half = D / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(theta, (2 * i) / D);
  if (!scaling) return inv;
  if (scaling.type === 'linear') {
    for (let i = 0; i < half; i++) inv[i] /= scaling.factor;
    return inv;
  }
  const { factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositionEmbeddings: oldLen } = scaling;
  const lowFreqWavelen = oldLen / low;
  const highFreqWavelen = oldLen / high;
  for (let i = 0; i < half; i++) {
    const wavelen = (2 * Math.PI) / inv[i];
    if (wavelen > lowFreqWavelen) inv[i] = inv[i] / factor; // low frequency: interpolate fully
    else if (wavelen >= highFreqWavelen) {
      // medium frequency: blend the scaled and unscaled frequency
      const smooth = (oldLen / wavelen - low) / (high - low);
      inv[i] = ((1 - smooth) * inv[i]) / factor + smooth * inv[i];
    } // high frequency (wavelen < highFreqWavelen): unchanged
  }
  return inv;
}

/**
 * Rotary position embedding tables in the Hugging Face layout, for positions 0..T-1:
 * angle(t, i) = t * inv_freq_i (see ropeInvFreq; `rope` is rope_theta alone or with its scaling).
 * Returns cos and sin, each (T, D/2); HF's (T, D) tables are these halves repeated twice.
 * Computed in float64 and rounded once to the requested type.
 */
export function ropeTables(Float: FloatCtor, T: number, D: number, rope: number | RopeSpec): { cos: FloatArray; sin: FloatArray } {
  const inv = ropeInvFreq(D, rope);
  const half = D / 2;
  // Unscaled, divide by theta^(2i/D) directly (one rounding less than t * (1 / theta^(2i/D))).
  const theta = typeof rope === 'number' ? rope : rope.theta;
  const scaled = typeof rope !== 'number' && !!rope.scaling;
  const cos = new Float(T * half);
  const sin = new Float(T * half);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const a = scaled ? t * inv[i] : t / Math.pow(theta, (2 * i) / D);
      cos[t * half + i] = Math.cos(a);
      sin[t * half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/**
 * RoPE, "rotate half" layout: with x = [x1, x2] split at D/2,
 *   out = x * cos + cat(-x2, x1) * sin,  i.e.  out_i = x_i c_i - x_{i+h} s_i,  out_{i+h} = x_{i+h} c_i + x_i s_i.
 * out, inp  (B, T, H, D)   q or k, H heads per position; row (b, t) uses position t
 * cos, sin  (T, D/2)       from ropeTables
 * out may alias inp (each pair is read before it is written).
 */
export function ropeForward(
  out: FloatArray, inp: FloatArray, cos: FloatArray, sin: FloatArray, B: number, T: number, H: number, D: number,
): void {
  rotate(out, inp, cos, sin, B, T, H, D, 1);
}

/**
 * Backward of ropeForward, accumulated: the transpose of a rotation is the rotation by -angle.
 * dinp, dout (B, T, H, D);  cos, sin (T, D/2)
 */
export function ropeBackward(
  dinp: FloatArray, dout: FloatArray, cos: FloatArray, sin: FloatArray, B: number, T: number, H: number, D: number,
): void {
  rotate(dinp, dout, cos, sin, B, T, H, D, -1, true);
}

/** Rotates every (i, i + D/2) pair by sign * angle; writes, or adds when `accumulate`. */
function rotate(
  out: FloatArray, inp: FloatArray, cos: FloatArray, sin: FloatArray,
  B: number, T: number, H: number, D: number, sign: 1 | -1, accumulate = false,
): void {
  const half = D / 2;
  checkLen('rope out', out, B * T * H * D);
  checkLen('rope inp', inp, B * T * H * D);
  checkLen('rope tables', cos, T * half);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (let hd = 0; hd < H; hd++) {
        const base = ((b * T + t) * H + hd) * D;
        for (let i = 0; i < half; i++) {
          const c = cos[t * half + i];
          const s = sign * sin[t * half + i];
          const x1 = inp[base + i];
          const x2 = inp[base + i + half];
          const y1 = x1 * c - x2 * s;
          const y2 = x2 * c + x1 * s;
          if (accumulate) {
            out[base + i] += y1;
            out[base + i + half] += y2;
          } else {
            out[base + i] = y1;
            out[base + i + half] = y2;
          }
        }
      }
    }
  }
}
