// Saved activations in bf16 (activationPrecision 'bf16'): an f32 working buffer of n values and its
// packed copy, two bf16 per u32 word, element 2w in the low half of word w (as lib/weight_decode
// reads 16-bit weights). Rounding is to nearest even and keeps NaN a NaN, bit for bit as
// f32ToBf16Bits in src/core/half.ts. One thread per word; flat grids on a 2D dispatch.
//   bf16_store  packed = bf16(values)           (the forward keeps a layer's activations; values unchanged)
//   bf16_load   values = f32(packed)            (the backward refills the working buffer)
//   bf16_round  values = f32(bf16(values))      (in place: activations the backward reads without a
//                                                stored copy, the last layer's or recomputed ones)
// The f32 side is bound as u32 words: rounding works on the bits, so nothing is flushed or canonicalized.

override WG: u32 = 256;

struct Params {
  n: u32, // values
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

fn word_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

/** The bf16 bits of an f32 given as bits: round to nearest even; NaN stays a quiet NaN. */
fn bf16_bits(u: u32) -> u32 {
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu) != 0u) { return (u >> 16u) | 0x40u; }
  return ((u + 0x7fffu + ((u >> 16u) & 1u)) >> 16u) & 0xffffu;
}

@group(0) @binding(1) var<storage, read> values_in: array<u32>;        // (n) f32 bits
@group(0) @binding(2) var<storage, read_write> packed_out: array<u32>; // (ceil(n / 2))

@compute @workgroup_size(WG)
fn bf16_store(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  let w = word_index(wid, nwg, lid);
  let i = 2u * w;
  if (i >= p.n) { return; }
  var hi = 0u; // the padding half of an odd n
  if (i + 1u < p.n) { hi = bf16_bits(values_in[i + 1u]); }
  packed_out[w] = bf16_bits(values_in[i]) | (hi << 16u);
}

@group(0) @binding(1) var<storage, read_write> values: array<u32>; // (n) f32 bits
@group(0) @binding(2) var<storage, read> packed_in: array<u32>;    // (ceil(n / 2))

@compute @workgroup_size(WG)
fn bf16_load(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
             @builtin(local_invocation_index) lid: u32) {
  let w = word_index(wid, nwg, lid);
  let i = 2u * w;
  if (i >= p.n) { return; }
  let x = packed_in[w];
  values[i] = x << 16u;
  if (i + 1u < p.n) { values[i + 1u] = x & 0xffff0000u; }
}

@compute @workgroup_size(WG)
fn bf16_round(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_index) lid: u32) {
  let w = word_index(wid, nwg, lid);
  let i = 2u * w;
  if (i >= p.n) { return; }
  values[i] = bf16_bits(values[i]) << 16u;
  if (i + 1u < p.n) { values[i + 1u] = bf16_bits(values[i + 1u]) << 16u; }
}
