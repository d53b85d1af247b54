// Generic f32 matmul, for LoRA and other small products:
//   C (M, N) = alpha * op(A) op(B) + beta * C       (beta 0: C is not read; beta 1: accumulate)
//   A (M, K) row-major, or (K, M) when TRANS_A;  B (K, N) row-major, or (N, K) when TRANS_B.
//
// A workgroup computes a 64x64 tile of C; each of its 16x16 invocations owns a 4x4 block kept in
// registers. op(A) and op(B) are staged TK deep along K in workgroup memory, k-major, so the inner
// loop reads one vec4 of each per k and does 16 FMAs. Each invocation fetches one "quad" (4
// consecutive elements along the source's contiguous dimension) of each tile per step.
// Entry points: `main` fetches quads as 4 bounds-checked scalars (any M, N, K); `main_vec4` fetches
// each quad as one vec4 and needs the contiguous dimension of A and of B to be a multiple of 4.

override TRANS_A: bool = false;
override TRANS_B: bool = false;

const TM = 64u;  // tile rows (M)
const TN = 64u;  // tile columns (N)
const TK = 16u;  // tile depth (K); 256 invocations x 1 quad = 64 x 16 elements

struct Params {
  M: u32, N: u32, K: u32, _pad0: u32,
  alpha: f32, beta: f32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
// The same buffers seen as vec4; only `main_vec4` uses them (an entry point never uses both views).
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b4: array<vec4<f32>>;

var<workgroup> As: array<vec4<f32>, 256>;  // (TK, TM/4): As[k*16 + i] = op(A)[m0+4i .. m0+4i+3][k0+k]
var<workgroup> Bs: array<vec4<f32>, 256>;  // (TK, TN/4): Bs[k*16 + j] = op(B)[k0+k][n0+4j .. n0+4j+3]
var<private> acc: array<vec4<f32>, 4>;     // acc[i][j] = C[m0+4ty+i][n0+4tx+j]

// Where this invocation's quads start, as (row, col) of op(A) = (m, k) and of op(B) = (k, n).
fn a_origin(m0: u32, k0: u32, tid: u32) -> vec2<u32> {
  if (TRANS_A) { return vec2(m0 + 4u * (tid % 16u), k0 + tid / 16u); }  // contiguous along m
  return vec2(m0 + tid / 4u, k0 + 4u * (tid % 4u));                     // contiguous along k
}
fn b_origin(k0: u32, n0: u32, tid: u32) -> vec2<u32> {
  if (TRANS_B) { return vec2(k0 + 4u * (tid % 4u), n0 + tid / 4u); }   // contiguous along k
  return vec2(k0 + tid / 16u, n0 + 4u * (tid % 16u));                   // contiguous along n
}

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

// Put the fetched quads into the k-major tiles, then multiply them (between two barriers).
fn stage_and_multiply(qa: vec4<f32>, qb: vec4<f32>, tid: u32, tx: u32, ty: u32) {
  if (TRANS_A) {
    As[tid] = qa;
  } else {  // quad of 4 k's of tile row r: scatter into 4 k-rows
    let r = tid / 4u;
    let q = tid % 4u;
    for (var j = 0u; j < 4u; j++) { As[(4u * q + j) * 16u + r / 4u][r % 4u] = qa[j]; }
  }
  if (TRANS_B) {
    let r = tid / 4u;
    let q = tid % 4u;
    for (var j = 0u; j < 4u; j++) { Bs[(4u * q + j) * 16u + r / 4u][r % 4u] = qb[j]; }
  } else {
    Bs[tid] = qb;
  }
  workgroupBarrier();
  for (var k = 0u; k < TK; k++) {
    let av = As[k * 16u + ty];
    let bv = Bs[k * 16u + tx];
    acc[0] += av.x * bv;
    acc[1] += av.y * bv;
    acc[2] += av.z * bv;
    acc[3] += av.w * bv;
  }
  workgroupBarrier();
}

fn store(m0: u32, n0: u32, tx: u32, ty: u32) {
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + 4u * ty + i;
    if (m >= P.M) { return; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + 4u * tx + j;
      if (n < P.N) {
        var v = P.alpha * acc[i][j];
        if (P.beta != 0.0) { v += P.beta * c[m * P.N + n]; }
        c[m * P.N + n] = v;
      }
    }
  }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) tid: u32) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  for (var k0 = 0u; k0 < P.K; k0 += TK) {
    stage_and_multiply(a_quad(a_origin(m0, k0, tid)), b_quad(b_origin(k0, n0, tid)), tid, lid.x, lid.y);
  }
  store(m0, n0, lid.x, lid.y);
}

@compute @workgroup_size(16, 16)
fn main_vec4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
             @builtin(local_invocation_index) tid: u32) {
  let m0 = wg.y * TM;
  let n0 = wg.x * TN;
  for (var k0 = 0u; k0 < P.K; k0 += TK) {
    stage_and_multiply(a_quad4(a_origin(m0, k0, tid)), b_quad4(b_origin(k0, n0, tid)), tid, lid.x, lid.y);
  }
  store(m0, n0, lid.x, lid.y);
}
