// The bench model's LoRA training step written the way a browser developer would write it without
// this studio: @tensorflow/tfjs-core ops on the tfjs-backend-webgpu backend, autograd through
// tf.variableGrads, tf.train.adam. Same model (Llama: RMSNorm, RoPE with rotate_half, grouped-query
// causal attention, SwiGLU, untied head), same frozen f32 weights, same LoRA (rank, alpha, every
// linear and the head, A uniform in +-1/sqrt(in) and B zero as PEFT), same batches, same optimizer
// (Adam, weight decay 0, so AdamW), same global-norm clipping. Its first loss is the base model's,
// as ours is (B = 0), which checks that both compute the same model.
//
// Plain JavaScript with its types in tfjs-step.d.ts, for the reason given in tfjs-matmul.js.
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients (the @tensorflow/tfjs bundle imports this for its users).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-webgpu';

const LINEARS = [
  ['q_proj', 'self_attn'], ['k_proj', 'self_attn'], ['v_proj', 'self_attn'], ['o_proj', 'self_attn'],
  ['gate_proj', 'mlp'], ['up_proj', 'mlp'], ['down_proj', 'mlp'],
];

export async function tfjsLoraStep(c) {
  const m = c.model;
  const C = m.hiddenSize, H = m.numHeads, KV = m.numKvHeads, D = m.headDim, F = m.intermediateSize, V = m.vocabSize;
  const { B, T, rank: r } = c;
  const N = B * T;
  const scale = c.alpha / r;
  const shapes = { q_proj: [H * D, C], k_proj: [KV * D, C], v_proj: [KV * D, C], o_proj: [C, H * D], gate_proj: [F, C], up_proj: [F, C], down_proj: [C, F] };
  const frozen = [];
  const w = (name, shape) => {
    const data = c.weights.get(name);
    if (!data) throw new Error(`tfjs step: no weight ${name}`);
    const t = tf.tensor(data, shape, 'float32');
    frozen.push(t);
    return t;
  };
  const variables = [];
  let seed = 1;
  const lora = (out, inF, name) => {
    const bound = 1 / Math.sqrt(inF);
    const A = tf.variable(tf.randomUniform([r, inF], -bound, bound, 'float32', seed++), true, `${name}.lora_A`);
    const Bv = tf.variable(tf.zeros([out, r]), true, `${name}.lora_B`);
    variables.push(A, Bv);
    return { A, B: Bv };
  };
  const embed = w('model.embed_tokens.weight', [V, C]);
  const layers = [];
  for (let l = 0; l < m.numLayers; l++) {
    const p = `model.layers.${l}`;
    const layer = { inNorm: w(`${p}.input_layernorm.weight`, [C]), postNorm: w(`${p}.post_attention_layernorm.weight`, [C]), W: {}, L: {} };
    for (const [mod, block] of LINEARS) {
      layer.W[mod] = w(`${p}.${block}.${mod}.weight`, shapes[mod]);
      layer.L[mod] = lora(shapes[mod][0], shapes[mod][1], `${p}.${block}.${mod}`);
    }
    layers.push(layer);
  }
  const finalNorm = w('model.norm.weight', [C]);
  const head = m.tieWordEmbeddings ? embed : w('lm_head.weight', [V, C]);
  const headLora = lora(V, C, 'lm_head');

  // RoPE as Hugging Face's rotate_half: angle (t, i) = t / theta^(2i/D), the D/2 angles repeated.
  const half = D / 2;
  const ang = new Float32Array(T * D);
  for (let t = 0; t < T; t++) for (let i = 0; i < half; i++) ang[t * D + i] = ang[t * D + i + half] = t / m.ropeTheta ** ((2 * i) / D);
  const cos = tf.tensor(ang.map(Math.cos), [1, T, 1, D]);
  const sin = tf.tensor(ang.map(Math.sin), [1, T, 1, D]);
  const maskData = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskData[i * T + j] = -1e9;
  const mask = tf.tensor(maskData, [1, T, T]);
  frozen.push(cos, sin, mask);

  const linear = (x, W, L) => tf.add(tf.matMul(x, W, false, true), tf.mul(tf.matMul(tf.matMul(x, L.A, false, true), L.B, false, true), scale));
  const rms = (x, g) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), m.rmsNormEps))), g);
  const rope = (x) => {
    const x1 = tf.slice(x, [0, 0, 0, 0], [-1, -1, -1, half]);
    const x2 = tf.slice(x, [0, 0, 0, half], [-1, -1, -1, half]);
    return tf.add(tf.mul(x, cos), tf.mul(tf.concat([tf.neg(x2), x1], -1), sin));
  };
  // (B, T, heads, D) -> (B * H, T, D), key/value heads repeated for their query heads (repeat_kv).
  const heads = (x, n) => {
    const t = tf.transpose(x, [0, 2, 1, 3]);
    if (n === H) return tf.reshape(t, [B * H, T, D]);
    return tf.reshape(tf.broadcastTo(tf.reshape(t, [B * n, 1, T * D]), [B * n, H / n, T * D]), [B * H, T, D]);
  };

  // targets: (N) int32 ids, with -100 replaced by 0; valid: (N) f32, 1 where the target counts.
  const loss = (tokens, targets, valid) => {
    let x = tf.gather(embed, tokens);
    for (const L of layers) {
      const h = rms(x, L.inNorm);
      const q = rope(tf.reshape(linear(h, L.W.q_proj, L.L.q_proj), [B, T, H, D]));
      const k = rope(tf.reshape(linear(h, L.W.k_proj, L.L.k_proj), [B, T, KV, D]));
      const v = tf.reshape(linear(h, L.W.v_proj, L.L.v_proj), [B, T, KV, D]);
      const s = tf.add(tf.mul(tf.matMul(heads(q, H), heads(k, KV), false, true), 1 / Math.sqrt(D)), mask);
      const o = tf.matMul(tf.softmax(s), heads(v, KV));
      const attn = tf.reshape(tf.transpose(tf.reshape(o, [B, H, T, D]), [0, 2, 1, 3]), [N, H * D]);
      x = tf.add(x, linear(attn, L.W.o_proj, L.L.o_proj));
      const h2 = rms(x, L.postNorm);
      const g = linear(h2, L.W.gate_proj, L.L.gate_proj);
      x = tf.add(x, linear(tf.mul(tf.mul(g, tf.sigmoid(g)), linear(h2, L.W.up_proj, L.L.up_proj)), L.W.down_proj, L.L.down_proj));
    }
    const logits = linear(rms(x, finalNorm), head, headLora);
    const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, V)), -1);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, valid))), tf.maximum(tf.sum(valid), 1));
  };

  const optimizer = tf.train.adam(c.learningRate, 0.9, 0.999, 1e-8);
  const trainable = variables.reduce((s, v) => s + v.size, 0);
  return {
    trainable,
    /** One optimizer step on batch `step` (cycling); resolves with its loss, read back (tfjs's way to wait for the GPU). */
    async run(step) {
      const batch = c.batches[step % c.batches.length];
      const value = tf.tidy(() => {
        const tokens = tf.tensor1d(batch.tokens, 'int32');
        const targets = tf.tensor1d(batch.targets.map((t) => Math.max(t, 0)), 'int32');
        const valid = tf.tensor1d(Float32Array.from(batch.targets, (t) => (t === -100 ? 0 : 1)), 'float32');
        const { value: l, grads } = tf.variableGrads(() => loss(tokens, targets, valid), variables);
        // Global-norm clipping, as torch.nn.utils.clip_grad_norm_ and our trainer.
        const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
        const factor = tf.minimum(1, tf.div(c.gradClip, tf.add(norm, 1e-6)));
        const clipped = {};
        for (const [name, g] of Object.entries(grads)) clipped[name] = tf.mul(g, factor);
        optimizer.applyGradients(clipped);
        return l;
      });
      const [out] = await value.data();
      value.dispose();
      return out;
    },
    dispose() {
      for (const t of [...frozen, ...variables]) t.dispose();
      optimizer.dispose();
    },
  };
}
