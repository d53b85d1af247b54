// Products with a frozen base weight W (N_w, K_w) (Hugging Face [out, in]) stored f32, f16, bf16,
// int8 or NF4, dequantized inside the tile loads (never a dequantized copy of W):
//   TRANS_W = true   forward         C (M, N) = A (M, K) W^T (+ bias[N])  with W (N, K)   Y = X W^T + b
//   TRANS_W = false  backward-input  C (M, N) = A (M, K) W                with W (K, N)   dX = dY W
// plus beta * C (beta 1: accumulate). A and C are row-major with row strides lda >= K and ldc >= N,
// so a weight in row shards (each shard its own packed W) reads and writes its columns of the full
// A or C (bound from the shard's first column). Same tiling as matmul.wgsl: 64x64 tile of C per workgroup of
// 8 x 8 invocations, 8x8 per invocation, op(W) staged 16 deep along K; each invocation decodes 4
// quads of W per tile step.
//
// The packed layout and its decoding (FORMAT, DOUBLE_QUANT): lib/weight_decode.wgsl.
// W_ALIGNED (K_w % 4 == 0): a quad of 4 consecutive row elements is decoded from whole words at
// once; otherwise element by element. `main_vec4` also reads A as vec4 (K % 4 == 0 and lda % 4 == 0).

override TRANS_W: bool = true;
override W_ALIGNED: bool = false;
override HAS_BIAS: bool = false;

const TM = 64u;
const TN = 64u;
const TK = 16u;

struct Params {
  M: u32, N: u32, K: u32, wCols: u32,  // wCols = K_w, the row length of W
  beta: f32, lda: u32, ldc: u32, _pad: u32,  // lda, ldc: row strides of A and C in elements
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;        // (M, K), row stride lda
@group(0) @binding(2) var<storage, read> w: array<u32>;        // packed W
@group(0) @binding(3) var<storage, read> scales: array<u32>;   // absmax f32 bits, or qabsmax bytes
@group(0) @binding(4) var<storage, read> dq: array<f32>;       // double quant: code, offset, absmax2
@group(0) @binding(5) var<storage, read> bias: array<f32>;     // (N)
@group(0) @binding(6) var<storage, read_write> c: array<f32>;  // (M, N), row stride ldc
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>; // A as vec4 (`main_vec4` only)

var<workgroup> As: array<vec4<f32>, 256>;  // (TK, TM/4)
var<workgroup> Bs: array<vec4<f32>, 256>;  // (TK, TN/4)
// absmax, w_elem, w_quad_aligned: lib/weight_decode.wgsl (prepended by the wrapper).
// acc and fma_block: lib/register_block.wgsl (prepended by the wrapper).

// 4 consecutive elements of W's row `row` from column `col` (zeros outside W).
fn w_quad(row: u32, col: u32) -> vec4<f32> {
  let rows = select(P.K, P.N, TRANS_W);
  if (row >= rows || col >= P.wCols) { return vec4(0.0); }
  let e = row * P.wCols + col;
  if (W_ALIGNED) { return w_quad_aligned(e); }
  var q = vec4(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (col + j < P.wCols) { q[j] = w_elem(e + j); }
  }
  return q;
}

fn a_at(m: u32, k: u32) -> f32 {
  if (m >= P.M || k >= P.K) { return 0.0; }
  return a[m * P.lda + k];
}

// Staging, as in matmul.wgsl: per tile step each invocation takes one 4 x 4 block of A (4 rows,
// 4 k's; A is contiguous along k) and transposes it in registers so every store to the k-major
// tile is a whole vec4. W is decoded quad by quad: in the forward W (N, K) is contiguous along k,
// a 4 x 4 block again; in the backward W (K, N) is contiguous along n, 4 quads stored as they are.
struct Quads { q0: vec4<f32>, q1: vec4<f32>, q2: vec4<f32>, q3: vec4<f32> }

fn a_scalar(m: u32, k: u32) -> vec4<f32> { return vec4(a_at(m, k), a_at(m, k + 1u), a_at(m, k + 2u), a_at(m, k + 3u)); }
fn a_vec4(m: u32, k: u32) -> vec4<f32> {
  if (m >= P.M || k >= P.K) { return vec4(0.0); }
  return a4[(m * P.lda + k) / 4u];
}
// (The scalar fetch loops: unrolled, its 16 bounds-checked loads made SwiftShader's compiler slow.)
fn fetch_a(m0: u32, k0: u32, tid: u32) -> Quads {
  let m = m0 + 4u * (tid % 16u);
  let k = k0 + 4u * (tid / 16u);
  var r: array<vec4<f32>, 4>;
  for (var s = 0u; s < 4u; s++) { r[s] = a_scalar(m + s, k); }
  return Quads(r[0], r[1], r[2], r[3]);
}
fn fetch_a4(m0: u32, k0: u32, tid: u32) -> Quads {
  let m = m0 + 4u * (tid % 16u);
  let k = k0 + 4u * (tid / 16u);
  return Quads(a_vec4(m, k), a_vec4(m + 1u, k), a_vec4(m + 2u, k), a_vec4(m + 3u, k));
}
fn fetch_w(k0: u32, n0: u32, tid: u32) -> Quads {
  let j = 4u * (tid % 16u);
  if (TRANS_W) {
    let k = k0 + 4u * (tid / 16u);
    return Quads(w_quad(n0 + j, k), w_quad(n0 + j + 1u, k), w_quad(n0 + j + 2u, k), w_quad(n0 + j + 3u, k));
  }
  let k = k0 + tid / 16u;
  return Quads(w_quad(k, n0 + j), w_quad(k + 4u, n0 + j), w_quad(k + 8u, n0 + j), w_quad(k + 12u, n0 + j));
}

// The transpose of a 4 x 4 block into rows 4k .. 4k+3 of a k-major tile, column quad i.
fn put_block(tile: ptr<workgroup, array<vec4<f32>, 256>>, i: u32, k: u32, r: Quads) {
  (*tile)[(4u * k) * 16u + i] = vec4(r.q0.x, r.q1.x, r.q2.x, r.q3.x);
  (*tile)[(4u * k + 1u) * 16u + i] = vec4(r.q0.y, r.q1.y, r.q2.y, r.q3.y);
  (*tile)[(4u * k + 2u) * 16u + i] = vec4(r.q0.z, r.q1.z, r.q2.z, r.q3.z);
  (*tile)[(4u * k + 3u) * 16u + i] = vec4(r.q0.w, r.q1.w, r.q2.w, r.q3.w);
}

fn stage(tid: u32, a: Quads, w: Quads) {
  let i = tid % 16u;
  let k = tid / 16u;
  put_block(&As, i, k, a);
  if (TRANS_W) {
    put_block(&Bs, i, k, w);
  } else {
    Bs[k * 16u + i] = w.q0;
    Bs[(k + 4u) * 16u + i] = w.q1;
    Bs[(k + 8u) * 16u + i] = w.q2;
    Bs[(k + 12u) * 16u + i] = w.q3;
  }
}

fn multiply_tiles(tx: u32, ty: u32) {
  for (var k = 0u; k < TK; k++) {
    fma_block(As[k * 16u + ty], As[k * 16u + ty + 8u], Bs[k * 16u + tx], Bs[k * 16u + tx + 8u]);
  }
}

fn store(m0: u32, n0: u32, tx: u32, ty: u32) {
  for (var i = 0u; i < 8u; i++) {
    let m = m0 + 4u * (ty + 8u * (i / 4u)) + i % 4u;
    if (m < P.M) {
      for (var j = 0u; j < 8u; j++) {
        let n = n0 + 4u * (tx + 8u * (j / 4u)) + j % 4u;
        if (n < P.N) {
          var v = acc[2u * i + j / 4u][j % 4u];
          if (HAS_BIAS) { v += bias[n]; }
          if (P.beta != 0.0) { v += P.beta * c[m * P.ldc + n]; }
          c[m * P.ldc + n] = v;
        }
      }
    }
  }
}

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  for (var k0 = 0u; k0 < P.K; k0 += TK) {
    stage(tid, fetch_a(m0, k0, tid), fetch_w(k0, n0, tid));
    workgroupBarrier();
    multiply_tiles(lid.x, lid.y);
    workgroupBarrier();
  }
  store(m0, n0, lid.x, lid.y);
}

@compute @workgroup_size(8, 8)
fn main_vec4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
             @builtin(local_invocation_index) tid: u32) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  for (var k0 = 0u; k0 < P.K; k0 += TK) {
    stage(tid, fetch_a4(m0, k0, tid), fetch_w(k0, n0, tid));
    workgroupBarrier();
    multiply_tiles(lid.x, lid.y);
    workgroupBarrier();
  }
  store(m0, n0, lid.x, lid.y);
}
