// Inverted dropout on a LoRA input with an in-shader RNG (prepend shaders/lib/rng.wgsl; see there).
//
//   out[j] (+)= keep(j) ? inp[j] * scale : 0          j in [0, n), scale = 1 / (1 - p)
//   keep(j) = (rng_u32(seed, stream, j) >> 8) >= threshold,  threshold = ceil(p * 2^24)
//           = "uniform(seed, stream, j) >= p", exactly (src/core/rng.ts: dropoutMask)
//
// The same kernel is the forward (xd = dropout(x), overwrite) and the backward
// (dx += dxd * mask * scale, ACCUMULATE = true): the mask is recomputed, never stored.
// One thread handles the 4 elements of one Philox block; the grid is 2D (groups_x per row).
// block0 shifts the RNG blocks: elements [4 block0, 4 block0 + n) of a longer input (row chunks).

override ACCUMULATE: bool = false;
const WG: u32 = 64u;

struct DropoutParams {
  n: u32,             // elements
  threshold: u32,     // keep iff (u32 draw >> 8) >= threshold
  scale: f32,         // 1 / (1 - p)
  groups_x: u32,      // workgroups along x
  seed: vec2<u32>,    // (lo, hi)
  stream: vec2<u32>,  // (lo, hi)
  block0: u32,        // RNG block of element 0: elementOffset / 4 (a chunk of a longer input)
}

@group(0) @binding(0) var<uniform> params: DropoutParams;
@group(0) @binding(1) var<storage, read> inp: array<f32>;         // (n)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;   // (n)

@compute @workgroup_size(WG)
fn dropout(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let block = (wid.y * params.groups_x + wid.x) * WG + lid;
  let first = block * 4u;
  if (first >= params.n) {
    return;
  }
  let r = rng_block(params.seed, params.stream, vec2<u32>(params.block0 + block, 0u));
  for (var lane = 0u; lane < 4u; lane++) {
    let j = first + lane;
    if (j < params.n) {
      var v = 0.0;
      if ((r[lane] >> 8u) >= params.threshold) {
        v = inp[j] * params.scale;
      }
      if (ACCUMULATE) {
        out[j] = out[j] + v;
      } else {
        out[j] = v;
      }
    }
  }
}
