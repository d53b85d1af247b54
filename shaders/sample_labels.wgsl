// Labels sampled from the model's own softmax, one per row of the LM head's logits, for Sophia's
// Gauss-Newton-Bartlett Hessian estimate: the Gumbel-max trick over the vocabulary in chunks, as
// src/reference/ops/sample-labels.ts draws them:
//   label[n] = argmax_v (z[n, v] + G(n, v)), lowest v on ties
//   G(n, v) = -log(-log(u)), u = ((rng_u32(seed, stream(n), v) >> 9) + 0.5) 2^-23   in (0, 1)
//   (a thread draws the 4 counters of one Philox block at once: v0 must be a multiple of 4)
//   stream(n) = sampledLabelStream(step, n) of src/core/rng.ts: words (stream_lo | n, stream_hi)
// with z read through the final softcap when the model has one (SOFTCAP > 0, as cross_entropy.wgsl).
// One chunk of the vocabulary, columns [v0, v0 + Vc) of a (N, ld) logits block, per dispatch: the
// running best score and index (N each) carry over from chunk to chunk (the chunk with first = 1
// starts them); the chunk with last = 1 writes the label into targets[n] where the target is valid
// (in [0, V)) and leaves ignored rows (-100) alone, so the sampled loss counts the same rows.
// rng_block: lib/rng.wgsl, tanh_safe: lib/tanh.wgsl (both prepended by the wrapper).

override WG: u32 = 256;        // power of two
override SOFTCAP: f32 = 0.0;

const NEG_BIG: f32 = -0x1.fffffep+127f;

struct Params {
  N: u32,
  V: u32,
  v0: u32,
  Vc: u32,
  ld: u32,
  first: u32,
  last: u32,
  seed_lo: u32,
  seed_hi: u32,
  stream_lo: u32,   // (step mod 2^8) << 24; the row is OR-ed in (row < 2^24)
  stream_hi: u32,   // 5 << 16 | step >> 8
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> best_score: array<f32>;  // (N)
@group(0) @binding(2) var<storage, read_write> best_index: array<u32>;  // (N)
@group(0) @binding(3) var<storage, read_write> targets: array<i32>;     // (N) in: real targets; out: sampled
@group(0) @binding(4) var<storage, read> logits: array<f32>;            // (N, ld), columns [0, Vc)

var<workgroup> red_s: array<f32, WG>;
var<workgroup> red_i: array<u32, WG>;

fn capped(z: f32) -> f32 {
  if (SOFTCAP > 0.0) { return SOFTCAP * tanh_safe(z / SOFTCAP); }
  return z;
}

// One workgroup per row (row = wid.y * nwg.x + wid.x).
@compute @workgroup_size(WG)
fn sample_chunk(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.N) { return; }   // uniform across the workgroup
  let seed = vec2<u32>(p.seed_lo, p.seed_hi);
  let stream = vec2<u32>(p.stream_lo | row, p.stream_hi);
  var s = NEG_BIG;
  var idx = 0xffffffffu;
  // A thread takes 4 consecutive entries, the 4 counters of one Philox block (v0 is a multiple of 4).
  for (var q = lid; 4u * q < p.Vc; q += WG) {
    let j0 = 4u * q;
    let r = rng_block(seed, stream, vec2<u32>((p.v0 + j0) >> 2u, 0u));
    for (var lane = 0u; lane < 4u && j0 + lane < p.Vc; lane++) {
      let j = j0 + lane;
      let u = (f32(r[lane] >> 9u) + 0.5) * (1.0 / 8388608.0);
      let score = capped(logits[row * p.ld + j]) - log(-log(u));
      if (score > s) {   // j rises: a thread keeps the lowest index of its ties
        s = score;
        idx = p.v0 + j;
      }
    }
  }
  red_s[lid] = s;
  red_i[lid] = idx;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k = k / 2u) {
    if (lid < k) {
      let s2 = red_s[lid + k];
      let i2 = red_i[lid + k];
      if (s2 > red_s[lid] || (s2 == red_s[lid] && i2 < red_i[lid])) {
        red_s[lid] = s2;
        red_i[lid] = i2;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    var bs = red_s[0];
    var bi = red_i[0];
    // An earlier chunk holds lower indices: it keeps a tie.
    if (p.first == 0u && best_score[row] >= bs) {
      bs = best_score[row];
      bi = best_index[row];
    }
    best_score[row] = bs;
    best_index[row] = bi;
    if (p.last != 0u) {
      let t = targets[row];
      if (t >= 0 && u32(t) < p.V) { targets[row] = i32(bi); }
    }
  }
}
