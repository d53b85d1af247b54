// Cross-entropy over the vocabulary in chunks, for the LM head (torch's mean reduction with
// ignore_index = -100). The logits of one chunk of the vocabulary, columns [v0, v0 + Vc), are a
// (N, Vc) block with row stride ld (ld = Vc for a packed chunk, ld = V for a full logits matrix).
//   ce_chunk     folds one chunk into the running per-row max (N) and sumexp (N) (online
//                logsumexp) and picks up the target logit (N) when the target lies in the chunk;
//                the chunk with first = 1 starts the running state instead of reading it.
//   ce_finalize  one workgroup: lse = max + log(sumexp) (N), per-row loss (N) (0 for ignored
//                rows), stats = [mean loss, count, sum of losses, 0]; a fully ignored batch gives 0.
//   ce_backward  for one chunk, overwrites the logits in place with
//                dlogits = (softmax - onehot) * dloss / count (0 for ignored rows or count = 0).
// With SOFTCAP > 0 (Gemma 2's final_logit_softcapping) every logit z is read as
// c = SOFTCAP tanh(z / SOFTCAP): the loss is that of the capped logits, and ce_backward writes the
// gradient wrt the raw logits, dz = dc (1 - (c / SOFTCAP)^2). tanh_safe: lib/tanh.wgsl (prepended).
// A target outside [0, V) other than -100 is treated as ignored (no out-of-bounds read); the
// caller validates targets on the CPU. No infinities are used: the empty max is -FLT_MAX.
// Each entry point uses bindings 0..n-1: the uniform, then outputs, then inputs.

override WG: u32 = 256;   // power of two
override SOFTCAP: f32 = 0.0;  // 0: logits as they are; else capped (see above)

const IGNORE_INDEX: i32 = -100;
const NEG_BIG: f32 = -0x1.fffffep+127f;  // -FLT_MAX

struct Params {
  N: u32,      // rows
  V: u32,      // full vocabulary
  v0: u32,     // first column of this chunk
  Vc: u32,     // columns in this chunk
  ld: u32,     // row stride of the logits block, >= Vc
  first: u32,  // 1 for the chunk that starts the running state
  dloss: f32,  // upstream gradient of the mean loss (backward), usually 1
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

fn valid_target(t: i32) -> bool {
  return t >= 0 && u32(t) < p.V;
}

// A logit as the loss sees it: capped with SOFTCAP, or as it is.
fn capped(z: f32) -> f32 {
  if (SOFTCAP > 0.0) { return SOFTCAP * tanh_safe(z / SOFTCAP); }
  return z;
}

var<workgroup> redA: array<f32, WG>;
var<workgroup> redB: array<f32, WG>;

// ---- ce_chunk: one workgroup per row (row = wid.y * nwg.x + wid.x) ----
@group(0) @binding(1) var<storage, read_write> rmax: array<f32>;    // (N) running max
@group(0) @binding(2) var<storage, read_write> rsum: array<f32>;    // (N) running sum of exp(l - max)
@group(0) @binding(3) var<storage, read_write> tlogit: array<f32>;  // (N) logit of the target
@group(0) @binding(4) var<storage, read> logits: array<f32>;        // (N, ld), columns [0, Vc) used
@group(0) @binding(5) var<storage, read> targets: array<i32>;       // (N)

@compute @workgroup_size(WG)
fn ce_chunk(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.N) { return; }   // uniform across the workgroup
  let base = row * p.ld;
  var m = NEG_BIG;
  var s = 0.0;
  for (var j = lid; j < p.Vc; j += WG) {
    let l = capped(logits[base + j]);
    if (l > m) {
      s = s * exp(m - l) + 1.0;
      m = l;
    } else {
      s += exp(l - m);
    }
  }
  redA[lid] = m;
  redB[lid] = s;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k = k / 2u) {
    if (lid < k) {
      let m1 = redA[lid];
      let m2 = redA[lid + k];
      let mm = max(m1, m2);
      redB[lid] = redB[lid] * exp(m1 - mm) + redB[lid + k] * exp(m2 - mm);
      redA[lid] = mm;
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    var cm = redA[0];
    var cs = redB[0];
    if (p.first == 0u) {
      let m0 = rmax[row];
      let mm = max(m0, cm);
      cs = rsum[row] * exp(m0 - mm) + cs * exp(cm - mm);
      cm = mm;
    } else {
      tlogit[row] = 0.0;
    }
    rmax[row] = cm;
    rsum[row] = cs;
    let t = targets[row];
    if (valid_target(t) && u32(t) >= p.v0 && u32(t) - p.v0 < p.Vc) {
      tlogit[row] = capped(logits[base + u32(t) - p.v0]);
    }
  }
}

// ---- ce_finalize: a single workgroup strides over the rows ----
@group(0) @binding(1) var<storage, read_write> lse: array<f32>;    // (N) logsumexp, all rows
@group(0) @binding(2) var<storage, read_write> loss: array<f32>;   // (N) per-row loss
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;  // (4) mean, count, sum, 0
@group(0) @binding(4) var<storage, read> fmax: array<f32>;         // (N) from ce_chunk
@group(0) @binding(5) var<storage, read> fsum: array<f32>;         // (N)
@group(0) @binding(6) var<storage, read> ftlogit: array<f32>;      // (N)
@group(0) @binding(7) var<storage, read> ftargets: array<i32>;     // (N)

@compute @workgroup_size(WG)
fn ce_finalize(@builtin(local_invocation_index) lid: u32) {
  var total = 0.0;
  var count = 0.0;
  for (var n = lid; n < p.N; n += WG) {
    let l = fmax[n] + log(fsum[n]);
    lse[n] = l;
    var ln = 0.0;
    if (valid_target(ftargets[n])) {
      ln = l - ftlogit[n];
      total += ln;
      count += 1.0;
    }
    loss[n] = ln;
  }
  redA[lid] = total;
  redB[lid] = count;
  workgroupBarrier();
  for (var k = WG / 2u; k > 0u; k = k / 2u) {
    if (lid < k) {
      redA[lid] += redA[lid + k];
      redB[lid] += redB[lid + k];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let c = redB[0];
    stats[0] = select(0.0, redA[0] / max(c, 1.0), c > 0.0);
    stats[1] = c;
    stats[2] = redA[0];
    stats[3] = 0.0;
  }
}

// ---- ce_backward: one invocation per element of the chunk, in place ----
@group(0) @binding(1) var<storage, read_write> dlogits: array<f32>;  // (N, ld) logits in, dlogits out
@group(0) @binding(2) var<storage, read> blse: array<f32>;           // (N) from ce_finalize
@group(0) @binding(3) var<storage, read> bstats: array<f32>;         // (4) from ce_finalize
@group(0) @binding(4) var<storage, read> btargets: array<i32>;       // (N)

@compute @workgroup_size(WG)
fn ce_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.N * p.Vc) { return; }
  let n = i / p.Vc;
  let j = i - n * p.Vc;
  let a = n * p.ld + j;
  let t = btargets[n];
  let count = bstats[1];
  if (!valid_target(t) || count <= 0.0) {
    dlogits[a] = 0.0;
    return;
  }
  let g = p.dloss / count;
  let onehot = select(0.0, 1.0, u32(t) == p.v0 + j);
  if (SOFTCAP > 0.0) {
    let c = capped(dlogits[a]);
    let r = c / SOFTCAP;
    dlogits[a] = g * (exp(c - blse[n]) - onehot) * (1.0 - r * r);
  } else {
    let prob = exp(dlogits[a] - blse[n]);
    dlogits[a] = g * (prob - onehot);
  }
}
