// Generic f32 matmul, for LoRA and other products of two activations:
//   C (M, N) = alpha * op(A) op(B) + beta * C       (beta 0: C is not read; beta 1: accumulate)
//   A (M, K) row-major, or (K, M) when TRANS_A;  B (K, N) row-major, or (N, K) when TRANS_B.
//   A's stored rows are `lda` apart (its row length, unless A is a block of columns of a wider matrix).
//
// Register tiling: a workgroup of WX x WY invocations computes a TM x TN = 8WY x 8WX tile of C and
// each invocation an 8 x 8 block of it (rows 4ty..4ty+3 and TM/2+4ty.., columns 4tx..4tx+3 and
// TN/2+4tx..), kept in 16 vec4 registers. op(A) and op(B) are staged TK deep along K in workgroup
// memory, k-major, so each k of the inner loop reads 2 vec4 of A and 2 vec4 of B for 64 FMAs (4 x 4
// blocks read the same 4 vec4 for 16 FMAs; on SwiftShader those tile reads, not the FMAs, are the
// cost). The wrapper picks 8 x 8 (64 x 64 tiles) for square-ish products and a narrow tile when M
// or N is a LoRA rank (e.g. WX = 1: 128 x 8), where a 64-wide tile would compute mostly zeros.
// Entry points: `main` fetches quads as 4 bounds-checked scalars (any M, N, K); `main_vec4` fetches
// each quad as one vec4 and needs the contiguous dimension of A and of B (and lda) to be a multiple of 4.

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override WX: u32 = 8u;  // invocations along N (1, 2, 4, 8 or 16)
override WY: u32 = 8u;  // invocations along M (1, 2, 4, 8 or 16)

const TK = 16u;  // tile depth (K)
override TM4: u32 = 2u * WY;  // tile rows / 4
override TN4: u32 = 2u * WX;  // tile columns / 4
override NI: u32 = WX * WY;   // invocations

struct Params {
  M: u32, N: u32, K: u32, lda: u32,
  alpha: f32, beta: f32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
// The same buffers seen as vec4; only `main_vec4` uses them (an entry point never uses both views).
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;

var<workgroup> As: array<vec4<f32>, TK * TM4>;  // (TK, TM/4): As[k*TM4 + i] = op(A)[m0+4i .. m0+4i+3][k0+k]
var<workgroup> Bs: array<vec4<f32>, TK * TN4>;  // (TK, TN/4): Bs[k*TN4 + j] = op(B)[k0+k][n0+4j .. n0+4j+3]
// acc and fma_block: lib/register_block.wgsl (prepended by the wrapper).

fn a_at(m: u32, k: u32) -> f32 {
  if (m >= P.M || k >= P.K) { return 0.0; }
  if (TRANS_A) { return a[k * P.lda + m]; }
  return a[m * P.lda + k];
}
fn b_at(k: u32, n: u32) -> f32 {
  if (k >= P.K || n >= P.N) { return 0.0; }
  if (TRANS_B) { return b[n * P.K + k]; }
  return b[k * P.N + n];
}

// 4 consecutive elements along the source's contiguous dimension from (row, col) of op(A) = (m, k)
// or op(B) = (k, n).
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
  if (TRANS_A) { return a4[(o.y * P.lda + o.x) / 4u]; }
  return a4[(o.x * P.lda + o.y) / 4u];
}
fn b_quad4(o: vec2<u32>) -> vec4<f32> {
  if (o.x >= P.K || o.y >= P.N) { return vec4(0.0); }
  if (TRANS_B) { return b4[(o.y * P.K + o.x) / 4u]; }
  return b4[(o.x * P.N + o.y) / 4u];
}

// Staging works in units of 4 quads: a tile step of op(A) is TM4 x 4 units (unit u: row quad
// u % TM4, k quad u / TM4), of op(B) 4 x TN4 units. An operand stored contiguous along m (or n)
// gives 4 quads that are each one vec4 of the k-major tile. An operand stored contiguous along k
// gives a 4 x 4 block (4 rows, 4 k's), transposed in registers so that every store is a whole vec4
// (scattering single components instead made the transposed products 3x slower on SwiftShader).
// Fetching is per entry point (scalar or vec4 view of the buffers), storing is shared.
struct Quads { q0: vec4<f32>, q1: vec4<f32>, q2: vec4<f32>, q3: vec4<f32> }

// (m, k) of op(A) where quad s (0..3) of unit u starts; (k, n) of op(B) likewise.
fn a_origin(m0: u32, k0: u32, u: u32, s: u32) -> vec2<u32> {
  if (TRANS_A) { return vec2(m0 + 4u * (u % TM4), k0 + u / TM4 + 4u * s); }
  return vec2(m0 + 4u * (u % TM4) + s, k0 + 4u * (u / TM4));
}
fn b_origin(k0: u32, n0: u32, u: u32, s: u32) -> vec2<u32> {
  if (TRANS_B) { return vec2(k0 + 4u * (u / TN4), n0 + 4u * (u % TN4) + s); }
  return vec2(k0 + u / TN4 + 4u * s, n0 + 4u * (u % TN4));
}

// (The scalar fetches loop: unrolled, their 32 bounds-checked loads per unit made SwiftShader's
// shader compiler run for minutes.)
fn fetch_a(m0: u32, k0: u32, u: u32) -> Quads {
  var r: array<vec4<f32>, 4>;
  for (var s = 0u; s < 4u; s++) { r[s] = a_quad(a_origin(m0, k0, u, s)); }
  return Quads(r[0], r[1], r[2], r[3]);
}
fn fetch_b(k0: u32, n0: u32, u: u32) -> Quads {
  var r: array<vec4<f32>, 4>;
  for (var s = 0u; s < 4u; s++) { r[s] = b_quad(b_origin(k0, n0, u, s)); }
  return Quads(r[0], r[1], r[2], r[3]);
}
fn fetch_a4(m0: u32, k0: u32, u: u32) -> Quads {
  return Quads(a_quad4(a_origin(m0, k0, u, 0u)), a_quad4(a_origin(m0, k0, u, 1u)),
               a_quad4(a_origin(m0, k0, u, 2u)), a_quad4(a_origin(m0, k0, u, 3u)));
}
fn fetch_b4(k0: u32, n0: u32, u: u32) -> Quads {
  return Quads(b_quad4(b_origin(k0, n0, u, 0u)), b_quad4(b_origin(k0, n0, u, 1u)),
               b_quad4(b_origin(k0, n0, u, 2u)), b_quad4(b_origin(k0, n0, u, 3u)));
}

// Into the k-major tiles: 4 quads as they are, or the transpose of a 4 x 4 block.
fn put_a(u: u32, r: Quads) {
  let i = u % TM4;
  let k = u / TM4;
  if (TRANS_A) {
    As[k * TM4 + i] = r.q0;
    As[(k + 4u) * TM4 + i] = r.q1;
    As[(k + 8u) * TM4 + i] = r.q2;
    As[(k + 12u) * TM4 + i] = r.q3;
  } else {
    As[(4u * k) * TM4 + i] = vec4(r.q0.x, r.q1.x, r.q2.x, r.q3.x);
    As[(4u * k + 1u) * TM4 + i] = vec4(r.q0.y, r.q1.y, r.q2.y, r.q3.y);
    As[(4u * k + 2u) * TM4 + i] = vec4(r.q0.z, r.q1.z, r.q2.z, r.q3.z);
    As[(4u * k + 3u) * TM4 + i] = vec4(r.q0.w, r.q1.w, r.q2.w, r.q3.w);
  }
}
fn put_b(u: u32, r: Quads) {
  let j = u % TN4;
  let k = u / TN4;
  if (TRANS_B) {
    Bs[(4u * k) * TN4 + j] = vec4(r.q0.x, r.q1.x, r.q2.x, r.q3.x);
    Bs[(4u * k + 1u) * TN4 + j] = vec4(r.q0.y, r.q1.y, r.q2.y, r.q3.y);
    Bs[(4u * k + 2u) * TN4 + j] = vec4(r.q0.z, r.q1.z, r.q2.z, r.q3.z);
    Bs[(4u * k + 3u) * TN4 + j] = vec4(r.q0.w, r.q1.w, r.q2.w, r.q3.w);
  } else {
    Bs[k * TN4 + j] = r.q0;
    Bs[(k + 4u) * TN4 + j] = r.q1;
    Bs[(k + 8u) * TN4 + j] = r.q2;
    Bs[(k + 12u) * TN4 + j] = r.q3;
  }
}

// Multiply the staged tiles (between the two barriers around it).
fn multiply_tiles(tx: u32, ty: u32) {
  for (var k = 0u; k < TK; k++) {
    fma_block(As[k * TM4 + ty], As[k * TM4 + ty + WY], Bs[k * TN4 + tx], Bs[k * TN4 + tx + WX]);
  }
}

fn store(m0: u32, n0: u32, tx: u32, ty: u32) {
  for (var i = 0u; i < 8u; i++) {
    let m = m0 + 4u * (ty + WY * (i / 4u)) + i % 4u;
    if (m < P.M) {
      for (var j = 0u; j < 8u; j++) {
        let n = n0 + 4u * (tx + WX * (j / 4u)) + j % 4u;
        if (n < P.N) {
          var v = P.alpha * acc[2u * i + j / 4u][j % 4u];
          if (P.beta != 0.0) { v += P.beta * c[m * P.N + n]; }
          c[m * P.N + n] = v;
        }
      }
    }
  }
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let m0 = wg.y * 4u * TM4;
  let n0 = wg.x * 4u * TN4;
  for (var k0 = 0u; k0 < P.K; k0 += TK) {
    for (var u = tid; u < 4u * TM4; u += NI) { put_a(u, fetch_a(m0, k0, u)); }
    for (var u = tid; u < 4u * TN4; u += NI) { put_b(u, fetch_b(k0, n0, u)); }
    workgroupBarrier();
    multiply_tiles(lid.x, lid.y);
    workgroupBarrier();
  }
  store(m0, n0, lid.x, lid.y);
}

@compute @workgroup_size(WX, WY)
fn main_vec4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
             @builtin(local_invocation_index) tid: u32) {
  let m0 = wg.y * 4u * TM4;
  let n0 = wg.x * 4u * TN4;
  for (var k0 = 0u; k0 < P.K; k0 += TK) {
    for (var u = tid; u < 4u * TM4; u += NI) { put_a(u, fetch_a4(m0, k0, u)); }
    for (var u = tid; u < 4u * TN4; u += NI) { put_b(u, fetch_b4(k0, n0, u)); }
    workgroupBarrier();
    multiply_tiles(lid.x, lid.y);
    workgroupBarrier();
  }
  store(m0, n0, lid.x, lid.y);
}
