// What the attention kernels share (the wrappers prepend this file to attention_forward.wgsl and
// attention_backward.wgsl): the shape uniform, the q, k, v bindings, and reads of 4 elements of a
// row. Needs `override D` from the kernel. (WGSL cannot pass a storage buffer to a function on
// every device, hence one reader per buffer.)

struct Params {
  B: u32,
  T: u32,
  H: u32,
  KV: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;  // (B, T, H, D) after RoPE
@group(0) @binding(2) var<storage, read> k: array<f32>;  // (B, T, KV, D) after RoPE
@group(0) @binding(3) var<storage, read> v: array<f32>;  // (B, T, KV, D)

// Elements d .. d+3 of the row at element offset o; elements past D are zero.
fn q_quad(o: u32, d: u32) -> vec4<f32> {
  if (D % 4u == 0u) { return vec4(q[o + d], q[o + d + 1u], q[o + d + 2u], q[o + d + 3u]); }
  var r = vec4(0.0);
  for (var e = 0u; e < 4u; e++) { if (d + e < D) { r[e] = q[o + d + e]; } }
  return r;
}
fn k_quad(o: u32, d: u32) -> vec4<f32> {
  if (D % 4u == 0u) { return vec4(k[o + d], k[o + d + 1u], k[o + d + 2u], k[o + d + 3u]); }
  var r = vec4(0.0);
  for (var e = 0u; e < 4u; e++) { if (d + e < D) { r[e] = k[o + d + e]; } }
  return r;
}
fn v_quad(o: u32, d: u32) -> vec4<f32> {
  if (D % 4u == 0u) { return vec4(v[o + d], v[o + d + 1u], v[o + d + 2u], v[o + d + 3u]); }
  var r = vec4(0.0);
  for (var e = 0u; e < 4u; e++) { if (d + e < D) { r[e] = v[o + d + e]; } }
  return r;
}
