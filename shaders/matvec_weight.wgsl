// Matrix-vector product with a frozen weight W (N, K) (Hugging Face [out, in]) stored f32, f16,
// bf16, int8 or NF4, for one token at a time (generation): the tiled matmul_weight.wgsl computes
// 64 rows per tile, so with a single row it would do 64 times the work.
//   y (N) = alpha * W x + bias + beta * y        x (K); beta 1 accumulates (a LoRA branch)
// One workgroup of 64 threads computes ROWS = 64 / LANES outputs: LANES threads per row read
// consecutive quads of the row (coalesced), then the lanes are summed in workgroup memory.
//
// The packed layout and the dequantization below are those of matmul_weight.wgsl (the same
// functions; tests/generate/matvec-weight.test.ts checks every format against the reference).
// `main_vec4` (K % 4 == 0) decodes whole quads of the row and reads x as vec4; `main` any K.

override FORMAT: u32 = 0u;        // 0 f32, 1 f16, 2 bf16, 3 int8, 4 nf4
override DOUBLE_QUANT: bool = false;
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

const NF4 = array<f32, 16>(
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
  -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0);

var<workgroup> part: array<f32, WG>;

fn absmax(blk: u32) -> f32 {
  if (DOUBLE_QUANT) {
    let q = (scales[blk / 4u] >> (8u * (blk % 4u))) & 0xffu;
    return dq[q] * dq[257u + blk / 256u] + dq[256u];
  }
  return bitcast<f32>(scales[blk]);
}

fn bf16_lo(v: u32) -> f32 { return bitcast<f32>(v << 16u); }
fn bf16_hi(v: u32) -> f32 { return bitcast<f32>(v & 0xffff0000u); }
fn i8_at(v: u32, byte: u32) -> f32 { return f32(extractBits(bitcast<i32>(v), 8u * byte, 8u)); }

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
      let a = w[e / 2u];
      let b = w[e / 2u + 1u];
      return vec4(bf16_lo(a), bf16_hi(a), bf16_lo(b), bf16_hi(b));
    }
    case 3u: {
      let a = w[e / 4u];
      return vec4(i8_at(a, 0u), i8_at(a, 1u), i8_at(a, 2u), i8_at(a, 3u)) * (absmax(e / 64u) / 127.0);
    }
    case 4u: {
      let half = (w[e / 8u] >> (16u * ((e / 4u) % 2u))) & 0xffffu;  // 2 bytes = 4 codes
      let s = absmax(e / 64u);
      return vec4(NF4[(half >> 4u) & 15u] * s, NF4[half & 15u] * s, NF4[half >> 12u] * s, NF4[(half >> 8u) & 15u] * s);
    }
    default: { return vec4(bitcast<f32>(w[e]), bitcast<f32>(w[e + 1u]), bitcast<f32>(w[e + 2u]), bitcast<f32>(w[e + 3u])); }
  }
}

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
