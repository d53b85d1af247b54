// Global gradient norm and clip coefficient, on the GPU, deterministic (no float atomics).
//
//   pass 1 (sumsq_partial): workgroup w of G sums (grad_scale * g[i])^2 over
//           i = w*WG + lid + k*G*WG (fixed order), tree-reduces, and writes
//           ws[base + w] = bitcast(partial sum), ws[total + base + w] = 1 if any g[i] is NaN/Inf.
//           A gradient vector in pieces (the LoRA state's chunks) runs pass 1 once per piece, each
//           into its own range [base, base + G) of the `total` partials.
//   pass 2 (sumsq_final, one workgroup): sums the `total` partials (fixed order), checks the loss
//           values, and writes the stats buffer:
//
//   stats (8 words):
//     [0] f32 sumsq        sum of (grad_scale * g)^2
//     [1] f32 norm         sqrt(sumsq), what torch.nn.utils.clip_grad_norm_ returns
//     [2] f32 clip_coef    min(1, max_norm / (norm + 1e-6)), or 1 without clipping
//     [3] u32 nonfinite    1 if a gradient or loss value is NaN/Inf, or sumsq overflowed
//     [4] u32 nonfinite_steps  += [3] every run; never reset here (the trainer zeroes it)
//     [5..7] reserved, 0
//
// Non-finite tests look at the bits (exponent all ones): WGSL lets compilers assume finite floats.

const WG: u32 = 256u;

struct NormParams {
  n: u32,            // gradient elements
  groups: u32,       // G, the number of pass-1 workgroups (and partials)
  clip: u32,         // 1: clip to max_norm; 0: coefficient 1
  max_norm: f32,
  grad_scale: f32,   // gradients are multiplied by this first (1 / accumulation steps)
  loss_offset: u32,  // element offset of the loss values in `loss`
  loss_count: u32,   // loss values to check (0: none)
  base: u32,         // pass 1: where this piece's partials start
  total: u32,        // partials of all pieces (pass 2 sums them; = groups for one piece)
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: NormParams;
@group(0) @binding(1) var<storage, read> grads: array<f32>;      // (n)
@group(0) @binding(2) var<storage, read_write> ws: array<u32>;   // (2 total) partial sums, flags
@group(0) @binding(3) var<storage, read> loss: array<f32>;       // (loss_count) at loss_offset
@group(0) @binding(4) var<storage, read_write> stats: array<u32>; // (8)

var<workgroup> sums: array<f32, WG>;
var<workgroup> flags: array<u32, WG>;

fn nonfinite_bits(x: f32) -> u32 {
  return select(0u, 1u, (bitcast<u32>(x) & 0x7F800000u) == 0x7F800000u);
}

// Tree-reduce sums/flags of the workgroup into element 0 (all invocations must call it).
fn reduce_workgroup(lid: u32, s: f32, f: u32) {
  sums[lid] = s;
  flags[lid] = f;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half = half / 2u) {
    if (lid < half) {
      sums[lid] = sums[lid] + sums[lid + half];
      flags[lid] = flags[lid] | flags[lid + half];
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn sumsq_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let stride = params.groups * WG;
  var s = 0.0;
  var f = 0u;
  for (var i = wid.x * WG + lid; i < params.n; i += stride) {
    let raw = grads[i];
    let g = raw * params.grad_scale;
    s = s + g * g;
    f = f | nonfinite_bits(raw);
  }
  reduce_workgroup(lid, s, f);
  if (lid == 0u) {
    ws[params.base + wid.x] = bitcast<u32>(sums[0]);
    ws[params.total + params.base + wid.x] = flags[0];
  }
}

@compute @workgroup_size(WG)
fn sumsq_final(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  var f = 0u;
  for (var k = lid; k < params.total; k += WG) {
    s = s + bitcast<f32>(ws[k]);
    f = f | ws[params.total + k];
  }
  for (var k = lid; k < params.loss_count; k += WG) {
    f = f | nonfinite_bits(loss[params.loss_offset + k]);
  }
  reduce_workgroup(lid, s, f);
  if (lid == 0u) {
    let sumsq = sums[0];
    let bad = flags[0] | nonfinite_bits(sumsq);
    let norm = sqrt(sumsq);
    var coef = 1.0;
    if (params.clip != 0u) {
      coef = min(1.0, params.max_norm / (norm + 1e-6));
    }
    stats[0] = bitcast<u32>(sumsq);
    stats[1] = bitcast<u32>(norm);
    stats[2] = bitcast<u32>(coef);
    stats[3] = bad;
    stats[4] = stats[4] + bad;
    stats[5] = 0u;
    stats[6] = 0u;
    stats[7] = 0u;
  }
}
