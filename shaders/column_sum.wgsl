// Column sums of a row-major matrix, in a fixed order (no atomics, so runs are reproducible):
//   out (C) (+)= sum over the N rows of inp (N, C)
// Full finetuning's bias gradient: d b (out) = sum over the tokens of dy (N, out).
// A workgroup takes TC adjacent columns; each of its TR row slices sums rows r, r + TR, r + 2 TR, ...
// in order, then slice 0 adds the TR partial sums in order (one barrier). The split over rows keeps
// a narrow matrix (a KV bias of 128 columns over thousands of tokens) from running one long loop
// per column on a handful of invocations.

override TC: u32 = 16u;              // columns per workgroup
override TR: u32 = 16u;              // row slices per workgroup
override ACCUMULATE: bool = true;    // out += (true) or out = (false)

struct Params { N: u32, C: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> inp: array<f32>;         // (N, C)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;   // (C)

var<workgroup> partial: array<f32, TR * TC>;  // (TR, TC) the row slices' sums

@compute @workgroup_size(TC, TR)
fn column_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
              @builtin(local_invocation_id) lid: vec3u) {
  let c = (wid.y * nwg.x + wid.x) * TC + lid.x;
  var acc = 0.0;
  if (c < P.C) {
    for (var n = lid.y; n < P.N; n += TR) { acc += inp[n * P.C + c]; }
  }
  partial[lid.y * TC + lid.x] = acc;
  workgroupBarrier();
  if (lid.y == 0u && c < P.C) {
    var s = 0.0;
    for (var r = 0u; r < TR; r++) { s += partial[r * TC + lid.x]; }
    if (ACCUMULATE) { out[c] += s; } else { out[c] = s; }
  }
}
