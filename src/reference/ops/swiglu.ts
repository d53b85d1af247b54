import { checkLen, type FloatArray } from '../types';

/**
 * SwiGLU gate of the Llama MLP: out = silu(gate) * up, silu(g) = g * sigmoid(g).
 * out, gate, up  (N), any flat shape (rows x intermediate)
 */
export function swigluForward(out: FloatArray, gate: FloatArray, up: FloatArray, N: number): void {
  checkLen('swiglu out', out, N);
  checkLen('swiglu gate', gate, N);
  checkLen('swiglu up', up, N);
  for (let i = 0; i < N; i++) {
    const g = gate[i];
    out[i] = (g / (1 + Math.exp(-g))) * up[i];
  }
}

/**
 * Backward of swigluForward, accumulated. With s = sigmoid(g):
 *   dup += dout * g s,   dgate += dout * up * s (1 + g (1 - s))
 * dgate, dup, dout, gate, up  (N)
 */
export function swigluBackward(
  dgate: FloatArray, dup: FloatArray, dout: FloatArray, gate: FloatArray, up: FloatArray, N: number,
): void {
  checkLen('swiglu dout', dout, N);
  for (let i = 0; i < N; i++) {
    const g = gate[i];
    const s = 1 / (1 + Math.exp(-g));
    dup[i] += dout[i] * g * s;
    dgate[i] += dout[i] * up[i] * s * (1 + g * (1 - s));
  }
}
