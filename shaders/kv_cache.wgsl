// Append this step's keys and values to the KV cache of one layer:
//   kc[pos0 + i, :] = k[i, :],  vc[pos0 + i, :] = v[i, :]   for i < step.rows, pos0 + i < maxLen
// k, v (Tq, W) with W = KV * D (keys after RoPE); the caches are (maxLen, W). Padding rows of a
// partial prefill chunk (i >= step.rows) are not written, so they never reach the cache.
// One invocation per element of (Tq, W); a 2D grid of workgroups, linear index wid.y*nwg.x + wid.x.

override WG: u32 = 256;

struct Params {
  Tq: u32,
  W: u32,
  maxLen: u32,
  _pad0: u32,
}

struct Step {
  pos0: u32,
  rows: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> step: Step;
@group(0) @binding(2) var<storage, read> k: array<f32>;          // (Tq, W)
@group(0) @binding(3) var<storage, read> v: array<f32>;          // (Tq, W)
@group(0) @binding(4) var<storage, read_write> kc: array<f32>;   // (maxLen, W)
@group(0) @binding(5) var<storage, read_write> vc: array<f32>;   // (maxLen, W)

@compute @workgroup_size(WG)
fn kv_append(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_index) lid: u32) {
  let idx = (wid.y * nwg.x + wid.x) * WG + lid;
  let i = idx / p.W;
  if (i >= p.Tq || i >= step.rows) { return; }
  let row = step.pos0 + i;
  if (row >= p.maxLen) { return; }
  let dst = row * p.W + idx % p.W;
  kc[dst] = k[idx];
  vc[dst] = v[idx];
}
