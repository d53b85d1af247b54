import { checkLen, type FloatArray } from '../types';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/** GELU, tanh approximation (torch's gelu(approximate='tanh')): 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)));
}

/** d/dx of geluTanh: 0.5 (1 + t) + 0.5 x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2), t = tanh(u). */
export function geluTanhGrad(x: number): number {
  const t = Math.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
}

/**
 * GeGLU gate of the Gemma MLP: out = gelu_tanh(gate) * up.
 * out, gate, up  (N), any flat shape (rows x intermediate)
 */
export function gegluForward(out: FloatArray, gate: FloatArray, up: FloatArray, N: number): void {
  checkLen('geglu out', out, N);
  checkLen('geglu gate', gate, N);
  checkLen('geglu up', up, N);
  for (let i = 0; i < N; i++) out[i] = geluTanh(gate[i]) * up[i];
}

/**
 * Backward of gegluForward, accumulated:
 *   dup += dout * gelu_tanh(g),   dgate += dout * up * gelu_tanh'(g)
 * dgate, dup, dout, gate, up  (N)
 */
export function gegluBackward(
  dgate: FloatArray, dup: FloatArray, dout: FloatArray, gate: FloatArray, up: FloatArray, N: number,
): void {
  checkLen('geglu dout', dout, N);
  for (let i = 0; i < N; i++) {
    const g = gate[i];
    dup[i] += dout[i] * geluTanh(g);
    dgate[i] += dout[i] * up[i] * geluTanhGrad(g);
  }
}
