// Matrix-vector product with a frozen weight W (N, K) (Hugging Face [out, in]) stored f32, f16,
// bf16, int8 or NF4, for one token at a time (generation): the tiled matmul_weight.wgsl computes
// 64 rows per tile, so with a single row it would do 64 times the work.
//   y (N) = alpha * W x + bias + beta * y        x (K); beta 1 accumulates (a LoRA branch)
// One workgroup of 64 threads computes ROWS = 64 / LANES outputs: LANES threads per row read
// consecutive quads of the row (coalesced), then the lanes are summed in workgroup memory.
//
// The packed layout and its decoding (FORMAT, DOUBLE_QUANT): lib/weight_decode.wgsl, shared with
// matmul_weight.wgsl; tests/generate/matvec-weight.test.ts checks every format against the reference.
// `main_vec4` (K % 4 == 0) decodes whole quads of the row and reads x as vec4; `main` any K.

override HAS_BIAS: bool = false;

const WG: u32 = 64u;
override LANES: u32 = 8u;           // threads per row, a power of two <= WG
override ROWS: u32 = WG / LANES;  // rows per workgroup (not set by the wrapper)

struct Params {
  N: u32,
  K: u32,
  alpha: f32,
  beta: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;        // (K)
@group(0) @binding(2) var<storage, read> w: array<u32>;        // packed W (N, K)
@group(0) @binding(3) var<storage, read> scales: array<u32>;   // absmax f32 bits, or qabsmax bytes
@group(0) @binding(4) var<storage, read> dq: array<f32>;       // double quant: code, offset, absmax2
@group(0) @binding(5) var<storage, read> bias: array<f32>;     // (N)
@group(0) @binding(6) var<storage, read_write> y: array<f32>;  // (N)
@group(0) @binding(1) var<storage, read> x4: array<vec4<f32>>; // x as vec4 (`main_vec4` only)

var<workgroup> part: array<f32, WG>;

// absmax, w_elem, w_quad_aligned: lib/weight_decode.wgsl (prepended by the wrapper).

// Sum the LANES partial dots of each row and write the rows of this workgroup.
fn finish(lid: u32, n: u32, s: f32) {
  part[lid] = s;
  workgroupBarrier();
  let lane = lid % LANES;
  for (var st = LANES / 2u; st > 0u; st >>= 1u) {
    if (lane < st) { part[lid] += part[lid + st]; }
    workgroupBarrier();
  }
  if (lane == 0u && n < P.N) {
    var v = P.alpha * part[lid];
    if (HAS_BIAS) { v += bias[n]; }
    if (P.beta != 0.0) { v += P.beta * y[n]; }
    y[n] = v;
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let n = (wid.y * nwg.x + wid.x) * ROWS + lid / LANES;
  var s = 0.0;
  if (n < P.N) {
    let row = n * P.K;
    for (var k = lid % LANES; k < P.K; k += LANES) { s += w_elem(row + k) * x[k]; }
  }
  finish(lid, n, s);
}

@compute @workgroup_size(WG)
fn main_vec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_index) lid: u32) {
  let n = (wid.y * nwg.x + wid.x) * ROWS + lid / LANES;
  var s = 0.0;
  if (n < P.N) {
    let row = n * P.K;
    for (var k = 4u * (lid % LANES); k < P.K; k += 4u * LANES) { s += dot(w_quad_aligned(row + k), x4[k / 4u]); }
  }
  finish(lid, n, s);
}
