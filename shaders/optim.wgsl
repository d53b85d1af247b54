// Optimizer steps over one flat parameter buffer, exactly torch.optim.AdamW / torch.optim.SGD
// (src/reference/optim.ts), on the gradient  g = grad * grad_scale * clip_coef.
//
//   adamw:        p *= decay (= 1 - lr*wd);  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
//                 p -= step_size * m / (sqrt(v) / bias2_sqrt + eps)
//                 step_size = lr / (1 - b1^t), bias2_sqrt = sqrt(1 - b2^t)  (computed on the CPU)
//   sgd_momentum: d = g + wd p;  buf = first_step ? d : mu buf + (1 - dampening) d
//                 d = nesterov ? d + mu buf : buf;  p -= lr d
//   sgd:          p -= lr (g + wd p)           (momentum 0: no buffer)
//   lion:         c = b1 m + (1-b1) g;  p = p * decay - lr sign(c);  m = b2 m + (1-b2) g
//                 (lucidrains/lion-pytorch update_fn; src/reference/lion.ts)
//   sophia:       m = b1 m + (1-b1) g;  p = p * decay - lr sign(m) min(|m| / (rho h + 1e-15), 1)
//                 (Liuhong99/Sophia sophia.py, h = state2 already holds B g_hat^2; src/reference/sophia.ts)
//   sophia_hessian: h = b2 h + (1-b2) B g_hat^2, B = stats[1] of the cross-entropy finalize (the
//                 rows the sampled-label loss averaged); the gradient as it is: no scale, no clip
//
// With use_stats = 1, clip_coef is stats[2] and nonfinite is stats[3] of the grad-norm kernel
// (shaders/grad_norm.wgsl); a step whose flag is set changes nothing (torch would write NaNs; the
// trainer reads the flag and stops). Hyper-parameters are rewritten with queue.writeBuffer per step.

const WG: u32 = 256u;

struct OptimParams {
  n: u32,                   // parameters
  groups_x: u32,            // workgroups along x of the 2D grid
  use_stats: u32,           // 1: read clip_coef / nonfinite from stats
  lr: f32,
  decay: f32,               // AdamW: 1 - lr*wd (a multiplier); SGD: wd (added to the gradient)
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  step_size: f32,           // lr / (1 - beta1^t)
  bias2_sqrt: f32,          // sqrt(1 - beta2^t)
  eps: f32,
  momentum: f32,
  one_minus_dampening: f32,
  nesterov: u32,
  first_step: u32,
  grad_scale: f32,          // 1 / accumulation steps (or 1)
  rho: f32,                 // Sophia's clipping scale
}

@group(0) @binding(0) var<uniform> params: OptimParams;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;  // (n)
@group(0) @binding(2) var<storage, read> grad: array<f32>;         // (n)
@group(0) @binding(3) var<storage, read> stats: array<u32>;        // (8) from the grad-norm kernel
@group(0) @binding(4) var<storage, read_write> state1: array<f32>; // (n): m, or SGD's momentum buffer
@group(0) @binding(5) var<storage, read_write> state2: array<f32>; // (n): v (AdamW only)

// The element of this invocation, or n when it has none or the step is skipped.
fn element(wid: vec3<u32>, lid: u32) -> u32 {
  let i = (wid.y * params.groups_x + wid.x) * WG + lid;
  if (i >= params.n || (params.use_stats != 0u && stats[3] != 0u)) {
    return params.n;
  }
  return i;
}

fn effective_grad(i: u32) -> f32 {
  var g = grad[i] * params.grad_scale;
  if (params.use_stats != 0u) {
    g = g * bitcast<f32>(stats[2]);
  }
  return g;
}

@compute @workgroup_size(WG)
fn adamw(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, lid);
  if (i >= params.n) {
    return;
  }
  let g = effective_grad(i);
  let p = param[i] * params.decay;
  let m = params.beta1 * state1[i] + params.one_minus_beta1 * g;
  let v = params.beta2 * state2[i] + params.one_minus_beta2 * g * g;
  state1[i] = m;
  state2[i] = v;
  let denom = sqrt(v) / params.bias2_sqrt + params.eps;
  param[i] = p - params.step_size * m / denom;
}

@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, lid);
  if (i >= params.n) {
    return;
  }
  let p = param[i];
  var d = effective_grad(i) + params.decay * p;
  var buf = d;
  if (params.first_step == 0u) {
    buf = params.momentum * state1[i] + params.one_minus_dampening * d;
  }
  state1[i] = buf;
  if (params.nesterov != 0u) {
    d = d + params.momentum * buf;
  } else {
    d = buf;
  }
  param[i] = p - params.lr * d;
}

@compute @workgroup_size(WG)
fn sgd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, lid);
  if (i >= params.n) {
    return;
  }
  let p = param[i];
  param[i] = p - params.lr * (effective_grad(i) + params.decay * p);
}

@compute @workgroup_size(WG)
fn lion(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, lid);
  if (i >= params.n) {
    return;
  }
  let g = effective_grad(i);
  let m = state1[i];
  let c = params.beta1 * m + params.one_minus_beta1 * g;
  param[i] = param[i] * params.decay - params.lr * sign(c);
  state1[i] = params.beta2 * m + params.one_minus_beta2 * g;
}

const SOPHIA_EPS: f32 = 1e-15;

@compute @workgroup_size(WG)
fn sophia(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, lid);
  if (i >= params.n) {
    return;
  }
  let g = effective_grad(i);
  let m = params.beta1 * state1[i] + params.one_minus_beta1 * g;
  state1[i] = m;
  let ratio = min(abs(m) / (params.rho * state2[i] + SOPHIA_EPS), 1.0);
  param[i] = param[i] * params.decay - params.lr * sign(m) * ratio;
}

// Bindings as above with param = h (n) and stats = the cross-entropy stats [mean, count, sum, 0] (f32).
@compute @workgroup_size(WG)
fn sophia_hessian(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, lid);
  if (i >= params.n) {
    return;
  }
  let g = grad[i];
  let b = bitcast<f32>(stats[1]);
  param[i] = params.beta2 * param[i] + params.one_minus_beta2 * b * g * g;
}
