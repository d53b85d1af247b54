// SwiGLU gate of the Llama MLP: out = silu(gate) * up, silu(g) = g * sigmoid(g).
// Flat element grids on a 2D dispatch (linear workgroup index wid.y * nwg.x + wid.x).
// Each entry point uses bindings 0..n-1: the uniform, then outputs, then inputs.

override WG: u32 = 256;
override ACCUMULATE: bool = false;  // backward: dgate/dup += (true) or = (false)

struct Params {
  n: u32,   // elements, N * F
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

fn sigmoid(g: f32) -> f32 {
  return 1.0 / (1.0 + exp(-g));   // exp overflows to +inf for g << 0, giving 0: fine
}

// ---- forward ----
@group(0) @binding(1) var<storage, read_write> out: array<f32>;  // (N, F)
@group(0) @binding(2) var<storage, read> gate: array<f32>;       // (N, F)
@group(0) @binding(3) var<storage, read> up: array<f32>;         // (N, F)

@compute @workgroup_size(WG)
fn swiglu_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let g = gate[i];
  out[i] = g * sigmoid(g) * up[i];
}

// ---- backward: dup = dout * g s,  dgate = dout * up * s (1 + g (1 - s)),  s = sigmoid(g) ----
@group(0) @binding(1) var<storage, read_write> dgate: array<f32>;  // (N, F)
@group(0) @binding(2) var<storage, read_write> dup: array<f32>;    // (N, F)
@group(0) @binding(3) var<storage, read> dout: array<f32>;         // (N, F)
@group(0) @binding(4) var<storage, read> bgate: array<f32>;        // (N, F)
@group(0) @binding(5) var<storage, read> bup: array<f32>;          // (N, F)

@compute @workgroup_size(WG)
fn swiglu_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let g = bgate[i];
  let s = sigmoid(g);
  let d = dout[i];
  let du = d * g * s;
  let dg = d * bup[i] * s * (1.0 + g * (1.0 - s));
  if (ACCUMULATE) {
    dup[i] += du;
    dgate[i] += dg;
  } else {
    dup[i] = du;
    dgate[i] = dg;
  }
}
