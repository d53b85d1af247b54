// DoRA (PEFT's use_dora), the three pieces the projection needs besides its matmuls
// (src/model/graph/projection.ts; CPU twin: src/reference/ops/dora.ts):
//   dora_weight_norm  norm[r0 + i] = || W_i + scale (B A)_{r0 + i} ||  for the rows i of one row shard of W,
//                     W decoded from its packed words (lib/weight_decode.wgsl, prepended by the wrapper);
//                     one workgroup per row, its 64 invocations striding the columns.
//   dora_col_scale    out[n, o] = beta out[n, o] + (m[o] / norm[o] + delta) inp[n, o]   (N, Out), beta 0 or 1
//   dora_mag_grad     dm[o] += sum_n dy[n, o] t[n, o] / norm[o]                       one invocation per o
// Entry points bind different variables at the same binding numbers (each uses only its own).

override WG: u32 = 64;

struct NormParams {
  rows: u32,   // rows of this shard of W
  cols: u32,   // In: the row length of W and of A
  R: u32,      // LoRA rank
  r0: u32,     // the shard's first row in the whole W (B and norm are indexed by whole rows)
  scale: f32,  // LoRA scale (alpha / r or rsLoRA's)
  _p0: u32, _p1: u32, _p2: u32,
}

struct ColParams {
  N: u32,       // rows (tokens)
  Out: u32,     // columns (output features)
  delta: f32,   // added to m / norm: 0 or -1
  beta: f32,    // 0: out = ..., 1: out += ...
}

@group(0) @binding(0) var<uniform> PN: NormParams;
@group(0) @binding(1) var<storage, read> w: array<u32>;        // packed W shard (rows, cols)
@group(0) @binding(2) var<storage, read> scales: array<u32>;   // absmax f32 bits, or qabsmax bytes
@group(0) @binding(3) var<storage, read> dq: array<f32>;       // double quant: code, offset, absmax2
@group(0) @binding(4) var<storage, read> lora_a: array<f32>;   // A (R, cols)
@group(0) @binding(5) var<storage, read> lora_b: array<f32>;   // B (Out, R), whole
@group(0) @binding(6) var<storage, read_write> norm_out: array<f32>;  // (Out), whole

@group(0) @binding(0) var<uniform> PC: ColParams;
@group(0) @binding(1) var<storage, read> mag: array<f32>;      // dora_col_scale: m (Out)
@group(0) @binding(2) var<storage, read> norm: array<f32>;     // (Out)
@group(0) @binding(3) var<storage, read> inp: array<f32>;      // dora_col_scale: (N, Out)
@group(0) @binding(4) var<storage, read_write> outp: array<f32>;  // dora_col_scale: (N, Out)
@group(0) @binding(1) var<storage, read> dy: array<f32>;       // dora_mag_grad: (N, Out)
@group(0) @binding(3) var<storage, read> t: array<f32>;        // dora_mag_grad: (N, Out) = xd W^T + scale h B^T
@group(0) @binding(4) var<storage, read_write> dm: array<f32>; // dora_mag_grad: (Out)

var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn dora_weight_norm(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.y * nwg.x + wid.x;  // row of the shard; uniform across the workgroup
  if (i >= PN.rows) { return; }
  let row = PN.r0 + i;
  var acc = 0.0;
  for (var j = lid; j < PN.cols; j += 64u) {
    var ba = 0.0;
    for (var k = 0u; k < PN.R; k++) { ba += lora_b[row * PN.R + k] * lora_a[k * PN.cols + j]; }
    let v = w_elem(i * PN.cols + j) + PN.scale * ba;
    acc += v * v;
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (lid < s) { red[lid] += red[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { norm_out[row] = sqrt(red[0]); }
}

@compute @workgroup_size(WG)
fn dora_col_scale(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = (wid.y * nwg.x + wid.x) * WG + lid;
  if (e >= PC.N * PC.Out) { return; }
  let o = e % PC.Out;
  let v = (mag[o] / norm[o] + PC.delta) * inp[e];
  outp[e] = select(v, outp[e] + v, PC.beta != 0.0);
}

@compute @workgroup_size(WG)
fn dora_mag_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let o = (wid.y * nwg.x + wid.x) * WG + lid;
  if (o >= PC.Out) { return; }
  var s = 0.0;
  for (var n = 0u; n < PC.N; n++) { s += dy[n * PC.Out + o] * t[n * PC.Out + o]; }
  dm[o] += s / norm[o];
}
