// Causal grouped-query attention, forward, flash-attention style (no T x T score matrix is stored).
//
// One workgroup per (query block of BR rows, query head h, batch b): grid (ceil(T/BR), H, B).
// The Q tile stays in workgroup memory; keys then values are staged tile by tile (BC keys) through
// one shared buffer; each row keeps a running max m and sum l (online softmax) and the output rows
// are accumulated in registers (thread t owns elements t, t+WG, ... of the BR x D output tile).
// Query head h reads KV head h / (H / KV). Scale 1/sqrt(D) is folded into the Q tile.
// Writes out (B, T, H, D) and lse (B, H, T) = m + log(l), the per-row logsumexp the backward uses.
//
// Workgroup memory (f32): (BR + BC) * (D + 1) + BR * BC + BR words; the wrapper picks BR = BC so
// that it stays within the 16 KiB every WebGPU device guarantees (maxComputeWorkgroupStorageSize),
// e.g. D = 64, BR = BC = 16: 9.2 KiB; D = 128, BR = BC = 8: 8.3 KiB. Tile rows are padded to D + 1
// words so the threads of one score row hit different banks.

override D: u32 = 64;   // head dim
override BR: u32 = 16;  // query rows per workgroup
override BC: u32 = 16;  // keys per tile
override DP: u32 = D + 1u;  // padded row stride of the tiles (not set by the wrapper)
const WG: u32 = 64u;
const NACC: u32 = 16u;  // output elements per thread: the wrapper guarantees BR * D <= WG * NACC
const NEG_BIG: f32 = -3.0e38;

struct Params {
  B: u32,
  T: u32,
  H: u32,
  KV: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;          // (B, T, H, D) after RoPE
@group(0) @binding(2) var<storage, read> k: array<f32>;          // (B, T, KV, D) after RoPE
@group(0) @binding(3) var<storage, read> v: array<f32>;          // (B, T, KV, D)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // (B, T, H, D)
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;  // (B, H, T)

var<workgroup> qs: array<f32, BR * DP>;   // (BR, D) scaled queries, row stride DP
var<workgroup> kvs: array<f32, BC * DP>;  // (BC, D) keys, then values, row stride DP
var<workgroup> ss: array<f32, BR * BC>;   // (BR, BC) scores, then probabilities
var<workgroup> rowA: array<f32, BR>;      // (BR) rescale of the running output, then final sum l

@compute @workgroup_size(WG)
fn attention_forward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let T = p.T;
  let H = p.H;
  let KV = p.KV;
  let q0 = wid.x * BR;
  let h = wid.y;
  let b = wid.z;
  let kvh = h / (H / KV);
  let scale = inverseSqrt(f32(D));

  for (var idx = t; idx < BR * D; idx += WG) {
    let r = idx / D;
    let d = idx % D;
    let i = q0 + r;
    var x = 0.0;
    if (i < T) { x = q[((b * T + i) * H + h) * D + d]; }
    qs[r * DP + d] = x * scale;
  }

  var acc: array<f32, NACC>;  // zero-initialised
  var m = NEG_BIG;            // running max and sum of row t (threads t < BR)
  var l = 0.0;
  let i = q0 + t;             // the row this thread updates in the softmax step (if t < BR)
  let qEnd = min(q0 + BR, T); // rows q0 .. qEnd-1 see keys 0 .. qEnd-1 (grid only has q0 < T)
  let nTiles = (qEnd + BC - 1u) / BC;

  for (var tile = 0u; tile < nTiles; tile++) {
    let k0 = tile * BC;
    workgroupBarrier();  // Q tile written / previous values read
    for (var idx = t; idx < BC * D; idx += WG) {
      let c = idx / D;
      let d = idx % D;
      let j = k0 + c;
      var x = 0.0;
      if (j < T) { x = k[((b * T + j) * KV + kvh) * D + d]; }
      kvs[c * DP + d] = x;
    }
    workgroupBarrier();
    for (var idx = t; idx < BR * BC; idx += WG) {
      let r = idx / BC;
      let c = idx % BC;
      var s = 0.0;
      for (var d = 0u; d < D; d++) { s += qs[r * DP + d] * kvs[c * DP + d]; }
      ss[idx] = s;
    }
    workgroupBarrier();
    // Online softmax update of row t; key 0 is in the first tile, so m is finite after it.
    if (t < BR) {
      var mNew = m;
      for (var c = 0u; c < BC; c++) {
        let j = k0 + c;
        if (j <= i && j < T) { mNew = max(mNew, ss[t * BC + c]); }
      }
      let alpha = exp(m - mNew);
      var sum = 0.0;
      for (var c = 0u; c < BC; c++) {
        let j = k0 + c;
        var e = 0.0;
        if (j <= i && j < T) { e = exp(ss[t * BC + c] - mNew); }
        ss[t * BC + c] = e;
        sum += e;
      }
      l = l * alpha + sum;
      m = mNew;
      rowA[t] = alpha;
    }
    workgroupBarrier();  // keys no longer read
    for (var idx = t; idx < BC * D; idx += WG) {
      let c = idx / D;
      let d = idx % D;
      let j = k0 + c;
      var x = 0.0;
      if (j < T) { x = v[((b * T + j) * KV + kvh) * D + d]; }
      kvs[c * DP + d] = x;
    }
    workgroupBarrier();
    for (var a = 0u; a < NACC; a++) {
      let idx = t + a * WG;
      if (idx < BR * D) {
        let r = idx / D;
        let d = idx % D;
        var s = acc[a] * rowA[r];
        for (var c = 0u; c < BC; c++) { s += ss[r * BC + c] * kvs[c * DP + d]; }
        acc[a] = s;
      }
    }
  }

  workgroupBarrier();  // rowA no longer read as alpha
  if (t < BR) {
    rowA[t] = l;
    if (i < T) { lse[(b * H + h) * T + i] = m + log(l); }
  }
  workgroupBarrier();
  for (var a = 0u; a < NACC; a++) {
    let idx = t + a * WG;
    let r = idx / D;
    if (idx < BR * D && q0 + r < T) {
      out[((b * T + q0 + r) * H + h) * D + idx % D] = acc[a] / rowA[r];
    }
  }
}
