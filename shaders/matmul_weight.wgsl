// Products with a frozen base weight W (N_w, K_w) (Hugging Face [out, in]) stored f32, f16, bf16,
// int8 or NF4, dequantized inside the tile loads (never a dequantized copy of W):
//   TRANS_W = true   forward         C (M, N) = A (M, K) W^T (+ bias[N])  with W (N, K)   Y = X W^T + b
//   TRANS_W = false  backward-input  C (M, N) = A (M, K) W                with W (K, N)   dX = dY W
// plus beta * C (beta 1: accumulate). Same tiling as matmul.wgsl: 64x64 tile of C per workgroup of
// 8 x 8 invocations, 8x8 per invocation, op(W) staged 16 deep along K; each invocation decodes 4
// quads of W per tile step.
//
// Packed layout (src/reference/quant/packed.ts): W's row-major elements e in u32 words:
//   f32 word e | f16/bf16 word e/2, element 2j in the low half | int8 byte e%4 of word e/4
//   nf4 byte (e/2)%4 of word e/8, even e in the high nibble; int8 and nf4 have an absmax per 64 elements.
// NF4 with DOUBLE_QUANT: absmax[blk] = dq[qabsmax[blk]] * dq[257 + blk/256] + dq[256], where qabsmax
// holds bytes packed 4 per word in `scales` and dq = [code (256), offset, absmax2 ...].
// W_ALIGNED (K_w % 4 == 0): a quad of 4 consecutive row elements is decoded from whole words at
// once; otherwise element by element. `main_vec4` also reads A as vec4 (K % 4 == 0).

override FORMAT: u32 = 0u;        // 0 f32, 1 f16, 2 bf16, 3 int8, 4 nf4
override TRANS_W: bool = true;
override W_ALIGNED: bool = false;
override DOUBLE_QUANT: bool = false;
override HAS_BIAS: bool = false;

const TM = 64u;
const TN = 64u;
const TK = 16u;

struct Params {
  M: u32, N: u32, K: u32, wCols: u32,  // wCols = K_w, the row length of W
  beta: f32, _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;        // (M, K)
@group(0) @binding(2) var<storage, read> w: array<u32>;        // packed W
@group(0) @binding(3) var<storage, read> scales: array<u32>;   // absmax f32 bits, or qabsmax bytes
@group(0) @binding(4) var<storage, read> dq: array<f32>;       // double quant: code, offset, absmax2
@group(0) @binding(5) var<storage, read> bias: array<f32>;     // (N)
@group(0) @binding(6) var<storage, read_write> c: array<f32>;  // (M, N)
@group(0) @binding(1) var<storage, read> a4: array<vec4<f32>>; // A as vec4 (`main_vec4` only)

const NF4 = array<f32, 16>(
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
  -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0);

var<workgroup> As: array<vec4<f32>, 256>;  // (TK, TM/4)
var<workgroup> Bs: array<vec4<f32>, 256>;  // (TK, TN/4)
// acc and fma_block: register_block.wgsl (prepended by the wrapper).

fn absmax(blk: u32) -> f32 {
  if (DOUBLE_QUANT) {
    let q = (scales[blk / 4u] >> (8u * (blk % 4u))) & 0xffu;
    return dq[q] * dq[257u + blk / 256u] + dq[256u];
  }
  return bitcast<f32>(scales[blk]);
}

fn bf16_lo(x: u32) -> f32 { return bitcast<f32>(x << 16u); }
fn bf16_hi(x: u32) -> f32 { return bitcast<f32>(x & 0xffff0000u); }
fn i8_at(x: u32, byte: u32) -> f32 { return f32(extractBits(bitcast<i32>(x), 8u * byte, 8u)); }

// Element e of W.
fn w_elem(e: u32) -> f32 {
  switch FORMAT {
    case 1u: { return unpack2x16float(w[e / 2u])[e % 2u]; }
    case 2u: { return bitcast<f32>(((w[e / 2u] >> (16u * (e % 2u))) & 0xffffu) << 16u); }
    case 3u: { return i8_at(w[e / 4u], e % 4u) * (absmax(e / 64u) / 127.0); }
    case 4u: {
      let byte = (w[e / 8u] >> (8u * ((e / 2u) % 4u))) & 0xffu;
      return NF4[select(byte & 15u, byte >> 4u, e % 2u == 0u)] * absmax(e / 64u);
    }
    default: { return bitcast<f32>(w[e]); }
  }
}

// Elements e .. e+3 of W, e a multiple of 4 (one absmax block: 64 is a multiple of 4).
fn w_quad_aligned(e: u32) -> vec4<f32> {
  switch FORMAT {
    case 1u: { return vec4(unpack2x16float(w[e / 2u]), unpack2x16float(w[e / 2u + 1u])); }
    case 2u: {
      let x = w[e / 2u];
      let y = w[e / 2u + 1u];
      return vec4(bf16_lo(x), bf16_hi(x), bf16_lo(y), bf16_hi(y));
    }
    case 3u: {
      let x = w[e / 4u];
      return vec4(i8_at(x, 0u), i8_at(x, 1u), i8_at(x, 2u), i8_at(x, 3u)) * (absmax(e / 64u) / 127.0);
    }
    case 4u: {
      let half = (w[e / 8u] >> (16u * ((e / 4u) % 2u))) & 0xffffu;  // 2 bytes = 4 codes
      let s = absmax(e / 64u);
      return vec4(NF4[(half >> 4u) & 15u] * s, NF4[half & 15u] * s, NF4[half >> 12u] * s, NF4[(half >> 8u) & 15u] * s);
    }
    default: { return vec4(bitcast<f32>(w[e]), bitcast<f32>(w[e + 1u]), bitcast<f32>(w[e + 2u]), bitcast<f32>(w[e + 3u])); }
  }
}

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
  return a[m * P.K + k];
}

// Staging, as in matmul.wgsl: per tile step each invocation takes one 4 x 4 block of A (4 rows,
// 4 k's; A is contiguous along k) and transposes it in registers so every store to the k-major
// tile is a whole vec4. W is decoded quad by quad: in the forward W (N, K) is contiguous along k,
// a 4 x 4 block again; in the backward W (K, N) is contiguous along n, 4 quads stored as they are.
struct Quads { q0: vec4<f32>, q1: vec4<f32>, q2: vec4<f32>, q3: vec4<f32> }

fn a_scalar(m: u32, k: u32) -> vec4<f32> { return vec4(a_at(m, k), a_at(m, k + 1u), a_at(m, k + 2u), a_at(m, k + 3u)); }
fn a_vec4(m: u32, k: u32) -> vec4<f32> {
  if (m >= P.M || k >= P.K) { return vec4(0.0); }
  return a4[(m * P.K + k) / 4u];
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
