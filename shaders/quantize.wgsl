// A chunk of a checkpoint tensor, as the file stores it (f32, f16 or bf16 little-endian words), into
// a base weight's storage format (src/reference/quant/packed.ts), bit for bit what the CPU packer
// writes (src/reference/ops/quantize.ts is the reference):
//   convert_weight   f32 / f16 / bf16 words (round to nearest even, as src/core/half.ts)
//   quantize_nf4     codes + absmax per block of 64 (bitsandbytes' NF4, src/reference/quant/nf4.ts)
//   quantize_int8    bytes + absmax per block of 64 (src/reference/quant/int8.ts)
// Every value is handled as its bits with integer arithmetic wherever a GPU's float rules could
// differ from the CPU's (WGSL lets division be 2.5 ulp off and subnormals be flushed): the absmax is
// the largest |x| compared as bits, NF4's 1/absmax is a long division of the significand rounded to
// nearest even, and int8's rounding of 127 |x| / absmax is exact integer arithmetic. NF4's only
// float operation is one product, which WGSL rounds correctly; the code is then found by exact
// comparisons with thresholds taken from the CPU reference (see nf4_code).
// A chunk starts on a multiple of 4096 elements of its tensor, so the bindings are chunk-local.
// Flat grids: linear workgroup index wid.y * nwg.x + wid.x, tails guarded.

override WG: u32 = 64u;
// Storage in the file: 0 f32, 1 f16, 2 bf16 (16-bit: element 2j in the low half of word j).
override SRC: u32 = 2u;
// convert_weight's output format: 0 f32 (one element per word), 1 f16, 2 bf16 (two per word).
override DST: u32 = 0u;

struct Params {
  n: u32,      // elements in this chunk
  slot: u32,   // quantize_nf4: the flags entry of this tensor
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// ---- the element decoders: f32 bits of element e of the chunk (exact; no float unit involved) ----

fn f16_bits_to_f32_bits(h: u32) -> u32 {
  let sign = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let m = h & 0x3ffu;
  if (e == 0u) {
    if (m == 0u) { return sign; }
    // Subnormal half m * 2^-24: normal in f32, its leading bit becomes the hidden bit.
    let lead = firstLeadingBit(m);  // 0..9
    return sign | ((lead + 103u) << 23u) | ((m << (23u - lead)) & 0x7fffffu);
  }
  if (e == 0x1fu) { return sign | 0x7f800000u | (m << 13u); }
  return sign | ((e + 112u) << 23u) | (m << 13u);
}

// ---- convert_weight: one output word per invocation ----
@group(0) @binding(1) var<storage, read_write> out_words: array<u32>;  // (ceil(n / per word)) u32
@group(0) @binding(2) var<storage, read> src_c: array<u32>;           // the chunk's file words

fn src_c_bits(e: u32) -> u32 {
  switch SRC {
    case 1u: { return f16_bits_to_f32_bits((src_c[e / 2u] >> (16u * (e % 2u))) & 0xffffu); }
    case 2u: { return ((src_c[e / 2u] >> (16u * (e % 2u))) & 0xffffu) << 16u; }
    default: { return src_c[e]; }
  }
}

// bfloat16 bits of an f32, nearest even; a NaN stays a NaN (src/core/half.ts f32ToBf16Bits).
fn bf16_of(u: u32) -> u32 {
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu) != 0u) { return (u >> 16u) | 0x40u; }
  return ((u + 0x7fffu + ((u >> 16u) & 1u)) >> 16u) & 0xffffu;
}

// IEEE binary16 bits of an f32, nearest even; overflow gives infinity (src/core/half.ts f32ToF16Bits).
fn f16_of(u: u32) -> u32 {
  let sign = (u >> 16u) & 0x8000u;
  let exp = (u >> 23u) & 0xffu;
  let mant = u & 0x7fffffu;
  if (exp == 0xffu) {
    if (mant != 0u) { return sign | 0x7e00u | (mant >> 13u); }
    return sign | 0x7c00u;
  }
  let e = i32(exp) - 127 + 15;
  if (e >= 0x1f) { return sign | 0x7c00u; }
  if (e <= 0) {
    if (e < -10) { return sign; }
    let m = mant | 0x800000u;
    let shift = u32(14 - e);  // 14..24
    let rem = m & ((1u << shift) - 1u);
    let half = 1u << (shift - 1u);
    var h = m >> shift;
    if (rem > half || (rem == half && (h & 1u) != 0u)) { h = h + 1u; }
    return sign | h;
  }
  var h = (u32(e) << 10u) | (mant >> 13u);
  let rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) != 0u)) { h = h + 1u; }
  return sign | h;
}

fn half_of(u: u32) -> u32 {
  if (DST == 1u) { return f16_of(u); }
  return bf16_of(u);
}

@compute @workgroup_size(WG)
fn convert_weight(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let w = (wid.y * nwg.x + wid.x) * WG + lid;
  if (DST == 0u) {
    if (w >= p.n) { return; }
    out_words[w] = src_c_bits(w);
    return;
  }
  let e = 2u * w;
  if (e >= p.n) { return; }
  var word = half_of(src_c_bits(e));
  if (e + 1u < p.n) { word = word | (half_of(src_c_bits(e + 1u)) << 16u); }
  out_words[w] = word;
}

// ---- quantize_nf4: one invocation per block of 64 elements ----
@group(0) @binding(1) var<storage, read_write> nf4_words: array<u32>;       // (ceil(n / 8)) 8 codes per word
@group(0) @binding(2) var<storage, read_write> nf4_absmax: array<u32>;      // (ceil(n / 64)) f32 bits
@group(0) @binding(3) var<storage, read_write> flags: array<atomic<u32>>;   // (tensors) blocks not done exactly
@group(0) @binding(4) var<storage, read> src_q: array<u32>;                 // the chunk's file words

fn src_q_bits(e: u32) -> u32 {
  switch SRC {
    case 1u: { return f16_bits_to_f32_bits((src_q[e / 2u] >> (16u * (e % 2u))) & 0xffffu); }
    case 2u: { return ((src_q[e / 2u] >> (16u * (e % 2u))) & 0xffffu) << 16u; }
    default: { return src_q[e]; }
  }
}

// NF4's nearest code without the 16 distances: for s between two neighbouring codebook values the
// reference's rounded distances |s - c_j| and |s - c_j+1| are monotone in s, so the code steps
// from j to j + 1 at one f32 value T_j (the first s whose upper distance is smaller). The wrapper
// computes T_0 .. T_14 from the CPU reference's nf4Code (nf4Thresholds), so
// code(s) = the number of T_j <= s, which is nf4Code(s) for every s in [-1, 1], ties included.
override T0: f32; override T1: f32; override T2: f32; override T3: f32; override T4: f32;
override T5: f32; override T6: f32; override T7: f32; override T8: f32; override T9: f32;
override T10: f32; override T11: f32; override T12: f32; override T13: f32; override T14: f32;

fn nf4_code(s: f32) -> u32 {
  return u32(s >= T0) + u32(s >= T1) + u32(s >= T2) + u32(s >= T3) + u32(s >= T4) + u32(s >= T5) +
    u32(s >= T6) + u32(s >= T7) + u32(s >= T8) + u32(s >= T9) + u32(s >= T10) + u32(s >= T11) +
    u32(s >= T12) + u32(s >= T13) + u32(s >= T14);
}

// 1/m rounded to nearest even, for m's bits with a biased exponent in [1, 252] (so 1/m is normal):
// m = M 2^(E-150), 1/m = (2^48 / M) 2^(102-E); the quotient by long division in 8-bit steps.
fn reciprocal_bits(mb: u32) -> u32 {
  let E = mb >> 23u;
  let M = (mb & 0x7fffffu) | 0x800000u;
  var q = 0u;
  var r = 1u;
  for (var i = 0u; i < 6u; i = i + 1u) {
    r = r << 8u;                  // < 2^32: r < M < 2^24
    q = (q << 8u) | (r / M);
    r = r % M;
  }
  // q = floor(2^48 / M) in (2^24, 2^25]: keep 24 bits, round half to even with the remainder as sticky.
  var mant = q >> 1u;
  if ((q & 1u) != 0u && (r != 0u || (mant & 1u) != 0u)) { mant = mant + 1u; }
  // value = mant 2^(103-E), biased exponent 253 - E; a mantissa carried to 2^24 bumps the exponent.
  return ((252u - E) << 23u) + mant;
}

@compute @workgroup_size(WG)
fn quantize_nf4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let b = (wid.y * nwg.x + wid.x) * WG + lid;
  let start = 64u * b;
  if (start >= p.n) { return; }
  let end = min(p.n, start + 64u);
  // Non-negative floats order as their bits: the max of |x| without a float compare (no flushing).
  var mb = 0u;
  for (var e = start; e < end; e = e + 1u) { mb = max(mb, src_q_bits(e) & 0x7fffffffu); }
  nf4_absmax[b] = mb;
  let E = mb >> 23u;
  if (mb != 0u && (E == 0u || E > 252u)) {
    // A subnormal absmax, or one whose reciprocal is subnormal: the CPU redoes this tensor.
    atomicAdd(&flags[p.slot], 1u);
  }
  var inv = 0.0;  // an all-zero block: every code 0, as bitsandbytes (NaN scaled values)
  if (mb != 0u) { inv = bitcast<f32>(reciprocal_bits(mb)); }
  let words_end = (end + 7u) / 8u;
  for (var w = start / 8u; w < words_end; w = w + 1u) {
    var word = 0u;
    for (var k = 0u; k < 8u; k = k + 1u) {
      let e = 8u * w + k;
      if (e >= end || mb == 0u) { continue; }
      let s = clamp(bitcast<f32>(src_q_bits(e)) * inv, -1.0, 1.0);
      // byte k/2 of the word; the even element in its high nibble
      word = word | (nf4_code(s) << (8u * (k / 2u) + 4u * (1u - (k % 2u))));
    }
    nf4_words[w] = word;
  }
}

// ---- quantize_int8: one invocation per block of 64 elements ----
@group(0) @binding(1) var<storage, read_write> i8_words: array<u32>;    // (ceil(n / 4)) 4 bytes per word
@group(0) @binding(2) var<storage, read_write> i8_absmax: array<u32>;   // (ceil(n / 64)) f32 bits
@group(0) @binding(3) var<storage, read> src_i: array<u32>;             // the chunk's file words

fn src_i_bits(e: u32) -> u32 {
  switch SRC {
    case 1u: { return f16_bits_to_f32_bits((src_i[e / 2u] >> (16u * (e % 2u))) & 0xffffu); }
    case 2u: { return ((src_i[e / 2u] >> (16u * (e % 2u))) & 0xffffu) << 16u; }
    default: { return src_i[e]; }
  }
}

// |x| = sig 2^exp with sig in [2^23, 2^24) (subnormals normalized), for nonzero bits without the sign.
fn significand(a: u32) -> vec2i {
  let E = a >> 23u;
  if (E == 0u) {
    let shift = 23u - firstLeadingBit(a);
    return vec2i(i32(a << shift), -149 - i32(shift));
  }
  return vec2i(i32((a & 0x7fffffu) | 0x800000u), i32(E) - 150);
}

// round(127 |x| / m), half away from zero, exactly: with v = 127 |x| / m,
// floor(v + 1/2) = (floor(2v) + 1) / 2 and floor(2v) = floor(254 X / Mm) >> (em - ex).
fn int8_magnitude(a: u32, mb: u32) -> u32 {
  if (a == 0u || mb == 0u) { return 0u; }
  let x = significand(a);
  let m = significand(mb);
  let d = m.y - x.y;  // >= 0, as |x| <= m
  if (d > 8) { return 0u; }  // v < 127 * 2 / 512 < 1/2
  let t = (254u * u32(x.x)) / u32(m.x);  // 254 X < 2^32
  return ((t >> u32(d)) + 1u) >> 1u;
}

@compute @workgroup_size(WG)
fn quantize_int8(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let b = (wid.y * nwg.x + wid.x) * WG + lid;
  let start = 64u * b;
  if (start >= p.n) { return; }
  let end = min(p.n, start + 64u);
  var mb = 0u;
  for (var e = start; e < end; e = e + 1u) { mb = max(mb, src_i_bits(e) & 0x7fffffffu); }
  i8_absmax[b] = mb;
  let words_end = (end + 3u) / 4u;
  for (var w = start / 4u; w < words_end; w = w + 1u) {
    var word = 0u;
    for (var k = 0u; k < 4u; k = k + 1u) {
      let e = 4u * w + k;
      if (e >= end) { continue; }
      let bits = src_i_bits(e);
      let q = int8_magnitude(bits & 0x7fffffffu, mb);
      var byte = q;
      if ((bits & 0x80000000u) != 0u) { byte = (256u - q) & 0xffu; }  // two's complement of -q
      word = word | (byte << (8u * k));
    }
    i8_words[w] = word;
  }
}
