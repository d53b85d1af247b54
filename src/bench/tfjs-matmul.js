// `@tensorflow/tfjs-backend-webgpu`'s matMul (f32) on the same shapes and adapter: the browser ML
// library the benchmark compares against. tfjs picks its own program per shape (packed, split-K,
// small-output ...), as it would for a user. Timed like our kernels: a warm-up call (compile and
// upload), one timed call ending in a readback, then a batch of calls ending in one readback.
//
// Plain JavaScript with its types in tfjs-matmul.d.ts: tfjs's own typings pull an old
// @webgpu/types into the program, whose global WebGPU declarations clash with the project's.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';

export async function tfjsWebgpu() {
  try {
    if (!(await tf.setBackend('webgpu'))) return { ok: false, reason: 'tf.setBackend("webgpu") returned false' };
    await tf.ready();
    return { ok: true, version: tf.version_core };
  } catch (e) {
    return { ok: false, reason: e.message };
  }
}

export async function timeTfjsMatmul(c, budgetMs, maxRuns = 8) {
  const a = tf.tensor2d(c.a, c.transA ? [c.K, c.M] : [c.M, c.K]);
  const b = tf.tensor2d(c.b, c.transB ? [c.N, c.K] : [c.K, c.N]);
  const batch = async (runs) => {
    const t0 = performance.now();
    const outs = Array.from({ length: runs }, () => tf.matMul(a, b, c.transA, c.transB));
    await outs[outs.length - 1].data();
    const ms = performance.now() - t0;
    outs.forEach((o) => o.dispose());
    return ms;
  };
  try {
    await batch(1);
    const one = await batch(1);
    const more = Math.min(maxRuns - 1, Math.floor((budgetMs - one) / one));
    if (more < 1) return { ms: one, runs: 1 };
    return { ms: Math.min(one, (await batch(more)) / more), runs: 1 + more };
  } finally {
    a.dispose();
    b.dispose();
  }
}
