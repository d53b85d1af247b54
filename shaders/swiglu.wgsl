// Gated MLP activation: out = act(gate) * up, with act = silu (SwiGLU, Llama, Qwen:
// silu(g) = g * sigmoid(g)) or the tanh approximation of GELU (GeGLU, Gemma:
// gelu_tanh(g) = 0.5 g (1 + tanh(sqrt(2/pi) (g + 0.044715 g^3))), torch's approximate='tanh'),
// chosen by the ACTIVATION override. GELU is evaluated through 0.5 (1 + tanh(u)) = sigmoid(2u) and
// 0.5 (1 - tanh(u)^2) = 2 sigmoid(2u) (1 - sigmoid(2u)): the same function, without the
// cancellation of 1 + tanh(u) in f32 for negative g (where tanh(u) rounds to -1).
// Flat element grids on a 2D dispatch (linear workgroup index wid.y * nwg.x + wid.x).
// Each entry point uses bindings 0..n-1: the uniform, then outputs, then inputs.

override WG: u32 = 256;
override ACCUMULATE: bool = false;  // backward: dgate/dup += (true) or = (false)
override ACTIVATION: u32 = 0u;      // 0: silu (SwiGLU), 1: gelu_tanh (GeGLU)

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

const GELU_K: f32 = 0.7978845608028654;  // sqrt(2 / pi)
const GELU_C: f32 = 0.044715;

// act(g) and act'(g) of the chosen activation.
struct Act {
  a: f32,
  da: f32,
}
fn activation(g: f32) -> Act {
  if (ACTIVATION == 1u) {
    let s = sigmoid(2.0 * GELU_K * (g + GELU_C * g * g * g));  // 0.5 (1 + tanh(u))
    return Act(g * s, s + 2.0 * g * s * (1.0 - s) * GELU_K * (1.0 + 3.0 * GELU_C * g * g));
  }
  let s = sigmoid(g);
  return Act(g * s, s * (1.0 + g * (1.0 - s)));
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
  if (ACTIVATION == 1u) {
    out[i] = activation(g).a * up[i];
  } else {
    out[i] = g * sigmoid(g) * up[i];
  }
}

// ---- backward: dup = dout * act(g),  dgate = dout * up * act'(g)
//      (silu: act = g s, act' = s (1 + g (1 - s)), s = sigmoid(g)) ----
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
  let d = dout[i];
  var du: f32;
  var dg: f32;
  if (ACTIVATION == 1u) {
    let a = activation(g);
    du = d * a.a;
    dg = d * bup[i] * a.da;
  } else {  // as before the activation option, so the SwiGLU bits do not change
    let s = sigmoid(g);
    du = d * g * s;
    dg = d * bup[i] * s * (1.0 + g * (1.0 - s));
  }
  if (ACCUMULATE) {
    dup[i] += du;
    dgate[i] += dg;
  } else {
    dup[i] = du;
    dgate[i] = dg;
  }
}
