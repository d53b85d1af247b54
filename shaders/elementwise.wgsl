// Elementwise vector ops on flat f32 arrays of n elements (any shape, e.g. the residual stream
// (B, T, C) or a gradient). Flat grids on a 2D dispatch (linear workgroup index wid.y*nwg.x + wid.x).
//   ew_add     y = a + b         (residual forward, out-of-place)
//   ew_axpy    y += alpha * a    (residual forward in place, gradient accumulation, residual backward)
//   ew_scale   y *= alpha
//   ew_copy    y = a
//   ew_fill    y = alpha
//   ew_softcap      y = alpha tanh(y / alpha)              (logit soft-capping in place, Gemma 2)
//   ew_softcap_bwd  y += a (1 - (b / alpha)^2), b = capped  (its backward from the capped values)
// tanh_safe: lib/tanh.wgsl (prepended by the wrapper).

override WG: u32 = 256;

struct Params {
  n: u32,
  alpha: f32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;  // (n) output / in-out
@group(0) @binding(2) var<storage, read> a: array<f32>;        // (n)
@group(0) @binding(3) var<storage, read> b: array<f32>;        // (n)

fn flat_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn ew_add(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
       @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] = a[i] + b[i];
}

@compute @workgroup_size(WG)
fn ew_axpy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] += p.alpha * a[i];
}

@compute @workgroup_size(WG)
fn ew_scale(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
         @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] *= p.alpha;
}

@compute @workgroup_size(WG)
fn ew_copy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] = a[i];
}

@compute @workgroup_size(WG)
fn ew_softcap(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] = p.alpha * tanh_safe(y[i] / p.alpha);
}

@compute @workgroup_size(WG)
fn ew_softcap_bwd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let t = b[i] / p.alpha;
  y[i] += a[i] * (1.0 - t * t);
}

@compute @workgroup_size(WG)
fn ew_fill(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  y[i] = p.alpha;
}
