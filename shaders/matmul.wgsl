// Generic f32 matmul, for LoRA and other products of two activations:
//   C (M, N) = alpha * op(A) op(B) + beta * C       (beta 0: C is not read; beta 1: accumulate)
//   A (M, K) row-major, or (K, M) when TRANS_A;  B (K, N) row-major, or (N, K) when TRANS_B.
//
// Register tiling: a workgroup of 8 x 8 invocations computes a 64 x 64 tile of C and each
// invocation an 8 x 8 block of it (rows 4ty..4ty+3 and 32+4ty.., columns 4tx..4tx+3 and 32+4tx..),
// kept in 16 vec4 registers. op(A) and op(B) are staged TK deep along K in workgroup memory,
// k-major, so each k of the inner loop reads 2 vec4 of A and 2 vec4 of B for 64 FMAs (the 4 x 4
// blocks this replaces read the same 4 vec4 for 16 FMAs; on SwiftShader those tile reads, not the
// FMAs, are the cost). Each invocation stages 4 "quads" (4 consecutive elements along the source's
// contiguous dimension) of each operand per step (see Quads).
// Entry points: `main` fetches quads as 4 bounds-checked scalars (any M, N, K); `main_vec4` fetches
// each quad as one vec4 and needs the contiguous dimension of A and of B to be a multiple of 4.

override TRANS_A: bool = false;
override TRANS_B: bool = false;

const TM = 64u;  // tile rows (M)
const TN = 64u;  // tile columns (N)
const TK = 16u;  // tile depth (K); 64 invocations x 4 quads = 64 x 16 elements per operand

struct Params {
  M: u32, N: u32, K: u32, _pad0: u32,
  alpha: f32, beta: f32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
// The same buffers seen as vec4; only the vec4 entry points use them (an entry point never uses both views).
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;

var<workgroup> As: array<vec4<f32>, 256>;  // (TK, TM/4): As[k*16 + i] = op(A)[m0+4i .. m0+4i+3][k0+k]
var<workgroup> Bs: array<vec4<f32>, 256>;  // (TK, TN/4): Bs[k*16 + j] = op(B)[k0+k][n0+4j .. n0+4j+3]
var<private> acc: array<vec4<f32>, 16>;    // acc[2i + j] = C[row i][4 columns of vec4 j], see row_of/col4_of

fn a_at(m: u32, k: u32) -> f32 {
  if (m >= P.M || k >= P.K) { return 0.0; }
  if (TRANS_A) { return a[k * P.M + m]; }
  return a[m * P.K + k];
}
fn b_at(k: u32, n: u32) -> f32 {
  if (k >= P.K || n >= P.N) { return 0.0; }
  if (TRANS_B) { return b[n * P.K + k]; }
  return b[k * P.N + n];
}

fn a_quad(o: vec2<u32>) -> vec4<f32> {
  if (TRANS_A) { return vec4(a_at(o.x, o.y), a_at(o.x + 1u, o.y), a_at(o.x + 2u, o.y), a_at(o.x + 3u, o.y)); }
  return vec4(a_at(o.x, o.y), a_at(o.x, o.y + 1u), a_at(o.x, o.y + 2u), a_at(o.x, o.y + 3u));
}
fn b_quad(o: vec2<u32>) -> vec4<f32> {
  if (TRANS_B) { return vec4(b_at(o.x, o.y), b_at(o.x + 1u, o.y), b_at(o.x + 2u, o.y), b_at(o.x + 3u, o.y)); }
  return vec4(b_at(o.x, o.y), b_at(o.x, o.y + 1u), b_at(o.x, o.y + 2u), b_at(o.x, o.y + 3u));
}
// vec4 quads: the contiguous dimension is a multiple of 4, so a quad is all inside or all outside.
fn a_quad4(o: vec2<u32>) -> vec4<f32> {
  if (o.x >= P.M || o.y >= P.K) { return vec4(0.0); }
  if (TRANS_A) { return a4[(o.y * P.M + o.x) / 4u]; }
  return a4[(o.x * P.K + o.y) / 4u];
}
fn b_quad4(o: vec2<u32>) -> vec4<f32> {
  if (o.x >= P.K || o.y >= P.N) { return vec4(0.0); }
  if (TRANS_B) { return b4[(o.y * P.K + o.x) / 4u]; }
  return b4[(o.x * P.N + o.y) / 4u];
}

// The 4 quads an invocation stages per tile step, of one operand. An operand stored contiguous
// along m (or n) is staged as 4 quads, each one vec4 of the k-major tile. An operand stored
// contiguous along k is staged as one 4 x 4 block (4 rows, 4 k's) transposed in registers, so that
// every store is a whole vec4 (scattering single components instead made the transposed products
// 3x slower on SwiftShader). Fetching is per entry point (scalar or vec4 view), storing is shared.
struct Quads { q0: vec4<f32>, q1: vec4<f32>, q2: vec4<f32>, q3: vec4<f32> }

// (m, k) of op(A) where quad s (0..3) of invocation tid starts; (k, n) of op(B) likewise.
fn a_origin(m0: u32, k0: u32, tid: u32, s: u32) -> vec2<u32> {
  if (TRANS_A) { return vec2(m0 + 4u * (tid % 16u), k0 + tid / 16u + 4u * s); }
  return vec2(m0 + 4u * (tid % 16u) + s, k0 + 4u * (tid / 16u));
}
fn b_origin(k0: u32, n0: u32, tid: u32, s: u32) -> vec2<u32> {
  if (TRANS_B) { return vec2(k0 + 4u * (tid / 16u), n0 + 4u * (tid % 16u) + s); }
  return vec2(k0 + tid / 16u + 4u * s, n0 + 4u * (tid % 16u));
}

// (The scalar fetches loop: unrolled, their 32 bounds-checked loads per step made SwiftShader's
// compiler run for minutes.)
fn fetch_a(m0: u32, k0: u32, tid: u32) -> Quads {
  var r: array<vec4<f32>, 4>;
  for (var s = 0u; s < 4u; s++) { r[s] = a_quad(a_origin(m0, k0, tid, s)); }
  return Quads(r[0], r[1], r[2], r[3]);
}
fn fetch_a4(m0: u32, k0: u32, tid: u32) -> Quads {
  return Quads(a_quad4(a_origin(m0, k0, tid, 0u)), a_quad4(a_origin(m0, k0, tid, 1u)),
               a_quad4(a_origin(m0, k0, tid, 2u)), a_quad4(a_origin(m0, k0, tid, 3u)));
}
fn fetch_b(k0: u32, n0: u32, tid: u32) -> Quads {
  var r: array<vec4<f32>, 4>;
  for (var s = 0u; s < 4u; s++) { r[s] = b_quad(b_origin(k0, n0, tid, s)); }
  return Quads(r[0], r[1], r[2], r[3]);
}
fn fetch_b4(k0: u32, n0: u32, tid: u32) -> Quads {
  return Quads(b_quad4(b_origin(k0, n0, tid, 0u)), b_quad4(b_origin(k0, n0, tid, 1u)),
               b_quad4(b_origin(k0, n0, tid, 2u)), b_quad4(b_origin(k0, n0, tid, 3u)));
}

// Into the k-major tiles: 4 quads as they are, or the transpose of a 4 x 4 block.
fn put_a(tid: u32, r: Quads) {
  let i = tid % 16u;
  let k = tid / 16u;
  if (TRANS_A) {
    As[k * 16u + i] = r.q0;
    As[(k + 4u) * 16u + i] = r.q1;
    As[(k + 8u) * 16u + i] = r.q2;
    As[(k + 12u) * 16u + i] = r.q3;
  } else {
    As[(4u * k) * 16u + i] = vec4(r.q0.x, r.q1.x, r.q2.x, r.q3.x);
    As[(4u * k + 1u) * 16u + i] = vec4(r.q0.y, r.q1.y, r.q2.y, r.q3.y);
    As[(4u * k + 2u) * 16u + i] = vec4(r.q0.z, r.q1.z, r.q2.z, r.q3.z);
    As[(4u * k + 3u) * 16u + i] = vec4(r.q0.w, r.q1.w, r.q2.w, r.q3.w);
  }
}
fn put_b(tid: u32, r: Quads) {
  let j = tid % 16u;
  let k = tid / 16u;
  if (TRANS_B) {
    Bs[(4u * k) * 16u + j] = vec4(r.q0.x, r.q1.x, r.q2.x, r.q3.x);
    Bs[(4u * k + 1u) * 16u + j] = vec4(r.q0.y, r.q1.y, r.q2.y, r.q3.y);
    Bs[(4u * k + 2u) * 16u + j] = vec4(r.q0.z, r.q1.z, r.q2.z, r.q3.z);
    Bs[(4u * k + 3u) * 16u + j] = vec4(r.q0.w, r.q1.w, r.q2.w, r.q3.w);
  } else {
    Bs[k * 16u + j] = r.q0;
    Bs[(k + 4u) * 16u + j] = r.q1;
    Bs[(k + 8u) * 16u + j] = r.q2;
    Bs[(k + 12u) * 16u + j] = r.q3;
  }
}

// One k of the 8 x 8 block: rows from a0 (4ty..) and a1 (32+4ty..), columns from b0 and b1.
fn fma_block(a0: vec4<f32>, a1: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>) {
  acc[0] += a0.x * b0;  acc[1] += a0.x * b1;
  acc[2] += a0.y * b0;  acc[3] += a0.y * b1;
  acc[4] += a0.z * b0;  acc[5] += a0.z * b1;
  acc[6] += a0.w * b0;  acc[7] += a0.w * b1;
  acc[8] += a1.x * b0;  acc[9] += a1.x * b1;
  acc[10] += a1.y * b0; acc[11] += a1.y * b1;
  acc[12] += a1.z * b0; acc[13] += a1.z * b1;
  acc[14] += a1.w * b0; acc[15] += a1.w * b1;
}

// Multiply the staged tiles (between the two barriers around the k loop).
fn multiply_tiles(tx: u32, ty: u32) {
  for (var k = 0u; k < TK; k++) {
    fma_block(As[k * 16u + ty], As[k * 16u + ty + 8u], Bs[k * 16u + tx], Bs[k * 16u + tx + 8u]);
  }
}

fn row_of(i: u32, ty: u32) -> u32 { return 4u * (ty + 8u * (i / 4u)) + i % 4u; }

fn store(m0: u32, n0: u32, tx: u32, ty: u32) {
  for (var i = 0u; i < 8u; i++) {
    let m = m0 + row_of(i, ty);
    if (m < P.M) {
      for (var j = 0u; j < 8u; j++) {
        let n = n0 + 4u * (tx + 8u * (j / 4u)) + j % 4u;
        if (n < P.N) {
          var v = P.alpha * acc[2u * i + j / 4u][j % 4u];
          if (P.beta != 0.0) { v += P.beta * c[m * P.N + n]; }
          c[m * P.N + n] = v;
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
    put_a(tid, fetch_a(m0, k0, tid));
    put_b(tid, fetch_b(k0, n0, tid));
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
    put_a(tid, fetch_a4(m0, k0, tid));
    put_b(tid, fetch_b4(k0, n0, tid));
    workgroupBarrier();
    multiply_tiles(lid.x, lid.y);
    workgroupBarrier();
  }
  store(m0, n0, lid.x, lid.y);
}
