// Rotary position embedding, Hugging Face "rotate half" layout. With h = D/2 and pair (i, i + h):
//   y_i = x_i c - x_{i+h} s,   y_{i+h} = x_{i+h} c + x_i s,   c, s = cos, sin(SIGN * angle(pos, i)).
// SIGN = 1 is the forward, SIGN = -1 the backward (the transpose of a rotation is the rotation by
// -angle). Row (b, t) uses position pos = posOffset + t, reading row pos of the precomputed tables.
// One invocation per (b, t, head, i < h); a 2D grid of workgroups, linear index wid.y*nwg.x + wid.x.
// Each entry point uses bindings 0..n-1: the uniform, then outputs, then inputs.

override WG: u32 = 256;
override SIGN: f32 = 1.0;
override ACCUMULATE: bool = false;  // out-of-place only: out += (true) or out = (false)

struct Params {
  B: u32,
  T: u32,
  H: u32,          // heads in this tensor (q: n_head, k: n_kv_head)
  D: u32,          // head dim, even
  posOffset: u32,  // position of t = 0 (KV-cache generation); tables need posOffset + T rows
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// Element index of x_i and table index for invocation `i`; ok = false past the end.
struct Slot { base: u32, tab: u32, ok: bool }

fn slot(i: u32) -> Slot {
  let h = p.D / 2u;
  let total = p.B * p.T * p.H * h;
  if (i >= total) { return Slot(0u, 0u, false); }
  let j = i % h;
  let rowHead = i / h;            // (b * T + t) * H + head
  let t = (rowHead / p.H) % p.T;
  return Slot(rowHead * p.D + j, (p.posOffset + t) * h + j, true);
}

// ---- in place: x (B, T, H, D) rotated where it lies ----
@group(0) @binding(1) var<storage, read_write> x: array<f32>;  // (B, T, H, D)
@group(0) @binding(2) var<storage, read> cosI: array<f32>;     // (Tmax, D/2)
@group(0) @binding(3) var<storage, read> sinI: array<f32>;     // (Tmax, D/2)

@compute @workgroup_size(WG)
fn rope_inplace(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let s = slot((wid.y * nwg.x + wid.x) * WG + lid);
  if (!s.ok) { return; }
  let h = p.D / 2u;
  let c = cosI[s.tab];
  let sn = SIGN * sinI[s.tab];
  let x1 = x[s.base];
  let x2 = x[s.base + h];
  x[s.base] = x1 * c - x2 * sn;
  x[s.base + h] = x2 * c + x1 * sn;
}

// ---- out of place: out (B, T, H, D) (+)= rotate(inp (B, T, H, D)) ----
@group(0) @binding(1) var<storage, read_write> out: array<f32>;  // (B, T, H, D)
@group(0) @binding(2) var<storage, read> inp: array<f32>;        // (B, T, H, D)
@group(0) @binding(3) var<storage, read> cosO: array<f32>;       // (Tmax, D/2)
@group(0) @binding(4) var<storage, read> sinO: array<f32>;       // (Tmax, D/2)

@compute @workgroup_size(WG)
fn rope_out(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) lid: u32) {
  let s = slot((wid.y * nwg.x + wid.x) * WG + lid);
  if (!s.ok) { return; }
  let h = p.D / 2u;
  let c = cosO[s.tab];
  let sn = SIGN * sinO[s.tab];
  let x1 = inp[s.base];
  let x2 = inp[s.base + h];
  let y1 = x1 * c - x2 * sn;
  let y2 = x2 * c + x1 * sn;
  if (ACCUMULATE) {
    out[s.base] += y1;
    out[s.base + h] += y2;
  } else {
    out[s.base] = y1;
    out[s.base + h] = y2;
  }
}
