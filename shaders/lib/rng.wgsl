// The studio's counter-based RNG: Philox-4x32-10, bit for bit the same as src/core/rng.ts (THE SPEC
// there). u32 arithmetic only; the high word of the 32x32 multiply is built from 16-bit halves.
//
// WGSL has no includes: a wrapper that needs these functions prepends this file to its shader
// (`rngWgsl + dropoutWgsl`), the one place the project joins two WGSL sources. Everything here is
// prefixed `rng_` / `philox_`, and this file declares no bindings.
//
//   seed, stream, counter: integers below 2^53 passed as vec2<u32>(lo, hi)
//   block = counter / 4, lane = counter % 4
//   rng_u32 = philox4x32_10(ctr = (block.lo, stream.lo, stream.hi, block.hi), key = seed)[lane]
//   rng_uniform = f32(rng_u32 >> 8) * 2^-24, in [0, 1)

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// High 32 bits of the 64-bit product a * b.
fn philox_mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xFFFFu;
  let ah = a >> 16u;
  let bl = b & 0xFFFFu;
  let bh = b >> 16u;
  let ll = al * bl;
  let lh = al * bh;
  let hl = ah * bl;
  let mid = (ll >> 16u) + (lh & 0xFFFFu) + (hl & 0xFFFFu); // < 3 * 2^16
  return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

// Philox-4x32-10 of counter `c` under key `k`.
fn philox4x32_10(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = ctr;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    if (round > 0u) {
      k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
    }
    let hi0 = philox_mulhi(PHILOX_M0, c.x);
    let lo0 = PHILOX_M0 * c.x;
    let hi1 = philox_mulhi(PHILOX_M1, c.z);
    let lo1 = PHILOX_M1 * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}

// The four u32s of counters 4*block .. 4*block+3 (block as (lo, hi)).
fn rng_block(seed: vec2<u32>, stream: vec2<u32>, block: vec2<u32>) -> vec4<u32> {
  return philox4x32_10(vec4<u32>(block.x, stream.x, stream.y, block.y), seed);
}

// randU32(seed, stream, counter), counter as (lo, hi).
fn rng_u32(seed: vec2<u32>, stream: vec2<u32>, counter: vec2<u32>) -> u32 {
  let block = vec2<u32>((counter.x >> 2u) | (counter.y << 30u), counter.y >> 2u);
  let r = rng_block(seed, stream, block);
  return r[counter.x & 3u];
}

// A u32 draw as a float in [0, 1) from its top 24 bits (exact in f32).
fn rng_to_unit(x: u32) -> f32 {
  return f32(x >> 8u) * (1.0 / 16777216.0);
}

fn rng_uniform(seed: vec2<u32>, stream: vec2<u32>, counter: vec2<u32>) -> f32 {
  return rng_to_unit(rng_u32(seed, stream, counter));
}
