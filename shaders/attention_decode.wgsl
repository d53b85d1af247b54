// Attention of new queries against the KV cache (generation with a cache), grouped-query heads.
//
// Query row i of this step sits at position pos = step.pos0 + i and attends to cache rows
// 0 .. pos (causal), or pos - WINDOW + 1 .. pos with a sliding window (the loop starts there, so a
// windowed layer reads at most WINDOW rows); rows i >= step.rows are the padding of a partial
// prefill chunk and are skipped. Query head h reads KV head h / (H / KV). Decode is Tq = 1; a
// prefill chunk is Tq > 1. SCALE, WINDOW, SOFTCAP: lib/attention_variant.wgsl (prepended by the
// wrapper with lib/tanh.wgsl); the defaults are Llama's attention.
//
// One workgroup of WG threads per (query row i, head h): grid (Tq, H). Keys go by tiles of WG:
// each thread scores one key (a dot product over D), workgroup reductions give the tile's max and
// sum for the online softmax, then thread t updates the output dims t, t + WG, ... from the tile's
// probabilities and values. The scale (1/sqrt(D) or SCALE) is folded into the staged query.
// Workgroup memory: (D + 2 WG) f32.

override D: u32 = 64u;  // head dim, at most WG * NACC
const WG: u32 = 64u;
const NACC: u32 = 4u;   // output dims per thread: D <= 256
const NEG_BIG: f32 = -3.0e38;

struct Params {
  Tq: u32,      // query rows of this op (the chunk size)
  H: u32,
  KV: u32,
  maxLen: u32,  // rows of each cache
}

// Where this step writes and reads: written on the CPU once per step, shared by every layer.
struct Step {
  pos0: u32,  // position of query row 0
  rows: u32,  // valid query rows (the rest is padding)
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> step: Step;
@group(0) @binding(2) var<storage, read> q: array<f32>;          // (Tq, H, D) after RoPE
@group(0) @binding(3) var<storage, read> kc: array<f32>;         // (maxLen, KV, D) key cache, after RoPE
@group(0) @binding(4) var<storage, read> vc: array<f32>;         // (maxLen, KV, D) value cache
@group(0) @binding(5) var<storage, read_write> out: array<f32>;  // (Tq, H, D)

var<workgroup> qs: array<f32, D>;   // scaled query
var<workgroup> ps: array<f32, WG>;  // probabilities of the current tile
var<workgroup> red: array<f32, WG>; // reduction scratch

fn reduce_max(t: u32, x: f32) -> f32 {
  red[t] = x;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] = max(red[t], red[t + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduce_sum(t: u32, x: f32) -> f32 {
  red[t] = x;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] += red[t + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn attention_decode(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let i = wid.x;
  let h = wid.y;
  if (i >= step.rows) { return; }  // uniform: the whole workgroup leaves
  let nKeys = min(step.pos0 + i + 1u, p.maxLen);
  let kStart = min(first_key(step.pos0 + i), nKeys - 1u);  // 0 without a window
  let kvOff = (h / (p.H / p.KV)) * D;
  let kvStride = p.KV * D;
  let scale = score_scale();
  for (var d = t; d < D; d += WG) { qs[d] = q[(i * p.H + h) * D + d] * scale; }

  var acc: array<f32, NACC>;
  var m = NEG_BIG;
  var l = 0.0;
  for (var k0 = kStart; k0 < nKeys; k0 += WG) {
    workgroupBarrier();  // qs written; the previous tile's ps read
    let j = k0 + t;
    var s = NEG_BIG;
    if (j < nKeys) {
      let base = j * kvStride + kvOff;
      var dot = 0.0;
      for (var d = 0u; d < D; d++) { dot += qs[d] * kc[base + d]; }
      s = cap_score(dot);
    }
    let mNew = max(m, reduce_max(t, s));  // finite: key kStart is in the first tile
    var e = 0.0;
    if (j < nKeys) { e = exp(s - mNew); }
    ps[t] = e;
    let alpha = exp(m - mNew);
    l = l * alpha + reduce_sum(t, e);  // its barriers also publish ps
    m = mNew;
    let n = min(WG, nKeys - k0);
    for (var a = 0u; a < NACC; a++) {
      let d = t + a * WG;
      if (d < D) {
        var o = acc[a] * alpha;
        for (var c = 0u; c < n; c++) { o += ps[c] * vc[(k0 + c) * kvStride + kvOff + d]; }
        acc[a] = o;
      }
    }
  }
  for (var a = 0u; a < NACC; a++) {
    let d = t + a * WG;
    if (d < D) { out[(i * p.H + h) * D + d] = acc[a] / l; }
  }
}
