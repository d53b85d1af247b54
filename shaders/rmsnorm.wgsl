// RMSNorm as Hugging Face Llama: y = x * rsqrt(mean(x^2) + eps) * g, g = w (Llama) or 1 + w
// (PLUS_ONE: Gemma, whose checkpoints store w - 1). Per-head q/k norm is the same kernel on
// (N * heads) rows of head_dim.
// Row kernels run one workgroup per row (row = wid.y * nwg.x + wid.x, so N may exceed 65535) with a
// shared-memory tree reduction; each thread strides over the row, so any C works (WG must be a
// power of two). Each entry point uses bindings 0..n-1: the uniform, then outputs, then inputs.

override WG: u32 = 256;
override ACCUMULATE: bool = true;   // backward: dinp += (true) or dinp = (false)
override PLUS_ONE: bool = false;    // the gain is 1 + w instead of w (the weight gradient is the same)

struct Params {
  N: u32,
  C: u32,
  eps: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// reduce_sum(lid, v): the sum of v over the workgroup, returned to every invocation; from
// lib/row_reduce.wgsl (tree in workgroup memory) or lib/row_reduce_subgroup.wgsl (subgroupAdd), which the
// wrapper prepends by feature.

// ---- forward ----
@group(0) @binding(1) var<storage, read_write> out: array<f32>;   // (N, C)
@group(0) @binding(2) var<storage, read_write> rstd: array<f32>;  // (N)
@group(0) @binding(3) var<storage, read> inp: array<f32>;         // (N, C)
@group(0) @binding(4) var<storage, read> weight: array<f32>;      // (C)

// The gain of column c: w_c, or 1 + w_c with PLUS_ONE (a constant branch, folded at pipeline creation).
fn gain(c: u32) -> f32 {
  if (PLUS_ONE) { return 1.0 + weight[c]; }
  return weight[c];
}

@compute @workgroup_size(WG)
fn rmsnorm_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.N) { return; }   // uniform across the workgroup
  let base = row * p.C;
  var ss = 0.0;
  for (var c = lid; c < p.C; c += WG) {
    let x = inp[base + c];
    ss += x * x;
  }
  let r = 1.0 / sqrt(reduce_sum(lid, ss) / f32(p.C) + p.eps);
  if (lid == 0u) { rstd[row] = r; }
  for (var c = lid; c < p.C; c += WG) {
    out[base + c] = inp[base + c] * r * gain(c);
  }
}

// ---- backward: dx_c = r g_c dy_c - x_c r^3 / C * sum_k dy_k g_k x_k ----
@group(0) @binding(1) var<storage, read_write> dinp: array<f32>;  // (N, C)
@group(0) @binding(2) var<storage, read> dout: array<f32>;        // (N, C)
// binding 3: inp (N, C), binding 4: weight (C), as in the forward
@group(0) @binding(5) var<storage, read> rstd_in: array<f32>;     // (N)

@compute @workgroup_size(WG)
fn rmsnorm_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= p.N) { return; }
  let base = row * p.C;
  var dot = 0.0;
  for (var c = lid; c < p.C; c += WG) {
    dot += dout[base + c] * gain(c) * inp[base + c];
  }
  let r = rstd_in[row];
  let k = reduce_sum(lid, dot) * r * r * r / f32(p.C);
  for (var c = lid; c < p.C; c += WG) {
    let d = r * gain(c) * dout[base + c] - inp[base + c] * k;
    if (ACCUMULATE) { dinp[base + c] += d; } else { dinp[base + c] = d; }
  }
}

// ---- weight gradient: dweight[c] (+)= sum over rows of dy * x * r; one invocation per column ----
// Loops over all rows (deterministic, no atomics); the base is frozen, so this is optional.
@group(0) @binding(1) var<storage, read_write> dweight: array<f32>;  // (C)
// binding 2: dout (N, C), binding 3: inp (N, C), as in the backward
@group(0) @binding(4) var<storage, read> wrstd: array<f32>;           // (N)

@compute @workgroup_size(WG)
fn rmsnorm_backward_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                           @builtin(local_invocation_index) lid: u32) {
  let c = (wid.y * nwg.x + wid.x) * WG + lid;
  if (c >= p.C) { return; }
  var acc = 0.0;
  for (var n = 0u; n < p.N; n++) {
    acc += dout[n * p.C + c] * inp[n * p.C + c] * wrstd[n];
  }
  if (ACCUMULATE) { dweight[c] += acc; } else { dweight[c] = acc; }
}
