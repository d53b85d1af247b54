// Adafactor (Shazeer & Stern 2018) over one flat parameter buffer that holds many tensors, as
// transformers.optimization.Adafactor runs it with relative_step=False and an explicit lr
// (src/reference/adafactor.ts), on the gradient g = grad * grad_scale * clip_coef. Three passes,
// encoded back to back in one compute pass:
//
//   adafactor_moments  one invocation per LINE: a row or a column of a 2-D tensor (factored), or one
//                      element of a 1-D tensor (unfactored); acc = beta2t acc + (1 - beta2t) mean(g^2 + eps1)
//                      over the line's elements
//   adafactor_stats    one workgroup per TENSOR: mean of its row accumulators, the RMS of its
//                      unclipped update u = g rsqrt(R_i / mean(R)) rsqrt(C_j) (1-D: g rsqrt(V_j)), and
//                      its parameter RMS; writes tstats = [mean(R), max(1, RMS(u) / clip), lr_t, 0]
//                      with lr_t = lr (x max(eps2, RMS(p)) with scale_parameter)
//   adafactor_apply    one invocation per element: u = g rsqrt(..) rsqrt(..) / tstats[1] * lr_t;
//                      with beta1 m = beta1 m + (1 - beta1) u, u = m; p = p - wd lr_t p - u
//
// The tensor table (sorted by offset) says where each tensor lies: elements [offset, offset +
// rows * cols) of the flat buffers, its second moment at acc[acc_offset ..] (rows then cols when
// factored; cols = n when not, with rows = 1), and its first line. Elements between tensors
// (alignment padding) belong to none and are left alone. With use_stats = 1 and stats[3] (the
// grad-norm kernel's non-finite flag) set, no pass writes anything that persists.
// Each entry point uses bindings 0..n-1: the uniform, then outputs, then inputs.

const WG: u32 = 256u;

struct Tensor {
  offset: u32,      // first element in the flat buffers
  rows: u32,        // 1 for a 1-D tensor
  cols: u32,
  acc_offset: u32,  // first second-moment value in acc
  line_start: u32,  // first line of this tensor (adafactor_moments)
  factored: u32,    // 1: 2-D, rows + cols accumulators; 0: 1-D, one per element
  _pad0: u32,
  _pad1: u32,
}

struct Params {
  tensors: u32,          // entries of the table
  lines: u32,            // total lines
  n: u32,                // elements of the flat buffers
  groups_x: u32,         // workgroups along x of the 2D grid
  use_stats: u32,
  grad_scale: f32,
  beta2t: f32,           // 1 - t^decay_rate
  one_minus_beta2t: f32,
  eps1: f32,
  eps2: f32,
  clip_threshold: f32,
  lr: f32,
  weight_decay: f32,
  beta1: f32,
  one_minus_beta1: f32,
  first_moment: u32,     // 1: keep and use m
  scale_parameter: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;

var<workgroup> red_a: array<f32, WG>;
var<workgroup> red_b: array<f32, WG>;

fn skipped(stats_flag: u32) -> bool {
  return params.use_stats != 0u && stats_flag != 0u;
}

// ---- adafactor_moments: one invocation per line (line = (wid.y * groups_x + wid.x) * WG + lid) ----
// A line is short for LoRA (a row of B has r values) or long (a row of A has `in`): one thread per
// line loops over it, so short lines waste nothing, and neighbouring threads of column lines read
// neighbouring addresses.
@group(0) @binding(1) var<storage, read_write> m_acc: array<f32>;    // (F) second moments
@group(0) @binding(2) var<storage, read> m_grad: array<f32>;         // (n)
@group(0) @binding(3) var<storage, read> m_stats: array<u32>;        // (8) grad-norm stats
@group(0) @binding(4) var<storage, read> m_table: array<Tensor>;     // (tensors)

@compute @workgroup_size(WG)
fn adafactor_moments(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let line = (wid.y * params.groups_x + wid.x) * WG + lid;
  if (line >= params.lines || skipped(m_stats[3])) { return; }
  let t = m_table[find_line(line)];
  let local = line - t.line_start;
  var first: u32;
  var stride: u32;
  var count: u32;
  if (t.factored != 0u && local < t.rows) {
    first = t.offset + local * t.cols;   // row `local`: mean over its columns
    stride = 1u;
    count = t.cols;
  } else {
    let c = select(local, local - t.rows, t.factored != 0u);
    first = t.offset + c;                // column c: mean over the rows
    stride = t.cols;
    count = t.rows;
  }
  var clip = 1.0;
  if (params.use_stats != 0u) { clip = bitcast<f32>(m_stats[2]); }
  var s = 0.0;
  for (var k = 0u; k < count; k++) {
    let g = m_grad[first + k * stride] * params.grad_scale * clip;
    s += g * g + params.eps1;
  }
  // rows then columns of a tensor follow each other in acc as its lines do: line i is accumulator i
  let slot = t.acc_offset + local;
  m_acc[slot] = params.beta2t * m_acc[slot] + params.one_minus_beta2t * (s / f32(count));
}

fn find_line(line: u32) -> u32 {
  var lo = 0u;
  var hi = params.tensors - 1u;
  while (lo < hi) {
    let mid = (lo + hi + 1u) / 2u;
    if (m_table[mid].line_start <= line) { lo = mid; } else { hi = mid - 1u; }
  }
  return lo;
}

// ---- adafactor_stats: one workgroup per tensor ----
@group(0) @binding(1) var<storage, read_write> s_tstats: array<vec4<f32>>;  // (tensors)
@group(0) @binding(2) var<storage, read> s_acc: array<f32>;                 // (F)
@group(0) @binding(3) var<storage, read> s_grad: array<f32>;                // (n)
@group(0) @binding(4) var<storage, read> s_param: array<f32>;               // (n)
@group(0) @binding(5) var<storage, read> s_stats: array<u32>;               // (8)
@group(0) @binding(6) var<storage, read> s_table: array<Tensor>;            // (tensors)

@compute @workgroup_size(WG)
fn adafactor_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ti = wid.y * params.groups_x + wid.x;
  if (ti >= params.tensors) { return; }
  let t = s_table[ti];
  let factored = t.factored != 0u;
  // mean of the row accumulators (factored only)
  var row_mean = 1.0;
  if (factored) {
    var s = 0.0;
    for (var i = lid; i < t.rows; i += WG) { s += s_acc[t.acc_offset + i]; }
    red_a[lid] = s;
    workgroupBarrier();
    for (var h = WG / 2u; h > 0u; h = h / 2u) {
      if (lid < h) { red_a[lid] += red_a[lid + h]; }
      workgroupBarrier();
    }
    row_mean = red_a[0] / f32(t.rows);
    workgroupBarrier();
  }
  var clip = 1.0;
  if (params.use_stats != 0u) { clip = bitcast<f32>(s_stats[2]); }
  let col0 = t.acc_offset + select(0u, t.rows, factored);
  let n = t.rows * t.cols;
  var su = 0.0;
  var sp = 0.0;
  for (var e = lid; e < n; e += WG) {
    let i = e / t.cols;
    let j = e - i * t.cols;
    var f = inverseSqrt(s_acc[col0 + j]);
    if (factored) { f = f * inverseSqrt(s_acc[t.acc_offset + i] / row_mean); }
    let u = s_grad[t.offset + e] * params.grad_scale * clip * f;
    su += u * u;
    let p = s_param[t.offset + e];
    sp += p * p;
  }
  red_a[lid] = su;
  red_b[lid] = sp;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h / 2u) {
    if (lid < h) {
      red_a[lid] += red_a[lid + h];
      red_b[lid] += red_b[lid + h];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let rms_u = sqrt(red_a[0] / f32(n));
    var lr_t = params.lr;
    if (params.scale_parameter != 0u) { lr_t = lr_t * max(params.eps2, sqrt(red_b[0] / f32(n))); }
    s_tstats[ti] = vec4<f32>(row_mean, max(1.0, rms_u / params.clip_threshold), lr_t, 0.0);
  }
}

// ---- adafactor_apply: one invocation per element ----
@group(0) @binding(1) var<storage, read_write> a_param: array<f32>;        // (n)
@group(0) @binding(2) var<storage, read_write> a_m: array<f32>;            // (n) first moment, or a placeholder
@group(0) @binding(3) var<storage, read> a_grad: array<f32>;               // (n)
@group(0) @binding(4) var<storage, read> a_acc: array<f32>;                // (F)
@group(0) @binding(5) var<storage, read> a_tstats: array<vec4<f32>>;       // (tensors)
@group(0) @binding(6) var<storage, read> a_stats: array<u32>;              // (8)
@group(0) @binding(7) var<storage, read> a_table: array<Tensor>;           // (tensors)

fn find_element(x: u32) -> u32 {
  var lo = 0u;
  var hi = params.tensors - 1u;
  while (lo < hi) {
    let mid = (lo + hi + 1u) / 2u;
    if (a_table[mid].offset <= x) { lo = mid; } else { hi = mid - 1u; }
  }
  return lo;
}

@compute @workgroup_size(WG)
fn adafactor_apply(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let x = (wid.y * params.groups_x + wid.x) * WG + lid;
  if (x >= params.n || skipped(a_stats[3])) { return; }
  let ti = find_element(x);
  let t = a_table[ti];
  if (x < t.offset || x - t.offset >= t.rows * t.cols) { return; }   // padding between tensors
  let e = x - t.offset;
  let i = e / t.cols;
  let j = e - i * t.cols;
  let ts = a_tstats[ti];
  let factored = t.factored != 0u;
  var f = inverseSqrt(a_acc[t.acc_offset + select(0u, t.rows, factored) + j]);
  if (factored) { f = f * inverseSqrt(a_acc[t.acc_offset + i] / ts.x); }
  var clip = 1.0;
  if (params.use_stats != 0u) { clip = bitcast<f32>(a_stats[2]); }
  var u = a_grad[x] * params.grad_scale * clip * f / ts.y * ts.z;
  if (params.first_moment != 0u) {
    u = params.beta1 * a_m[x] + params.one_minus_beta1 * u;
    a_m[x] = u;
  }
  let p = a_param[x];
  a_param[x] = p - params.weight_decay * ts.z * p - u;
}
