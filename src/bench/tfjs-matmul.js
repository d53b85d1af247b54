// `@tensorflow/tfjs-backend-webgpu`'s matMul (f32) on the same shapes and adapter: the browser ML
// library the benchmark compares against. tfjs picks its own program per shape (packed, split-K,
// small-output ...), as it would for a user. A run is one tf.matMul and the readback of its
// result (tfjs's way to wait for the GPU); the inputs are uploaded by the warm-up run.
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

export async function tfjsMatmul(c) {
  const a = tf.tensor2d(c.a, c.transA ? [c.K, c.M] : [c.M, c.K]);
  const b = tf.tensor2d(c.b, c.transB ? [c.N, c.K] : [c.K, c.N]);
  return {
    async run() {
      const out = tf.matMul(a, b, c.transA, c.transB);
      await out.data();
      out.dispose();
    },
    dispose() {
      a.dispose();
      b.dispose();
    },
  };
}
