// Token embedding: gather (forward) and scatter-add (backward).
// Flat element grids run on a 2D dispatch (x <= 65535 workgroups); the linear workgroup index is
// wid.y * nwg.x + wid.x, so every kernel guards its tail. Each entry point uses bindings 0..n-1:
// the uniform, then outputs, then inputs (variables of different entry points may share a number).

override WG: u32 = 256;
// Storage of the table in the forward: 0 f32 (one element per word), 1 f16, 2 bf16 (two per word,
// element 2j in the low half: src/reference/quant/packed.ts). The backward's dtable is always f32.
override FORMAT: u32 = 0u;

struct Params {
  N: u32,   // tokens
  C: u32,   // channels
  V: u32,   // vocabulary rows in the table (one shard of the vocabulary, or all of it)
  scale: f32,  // multiplier of the gathered rows (Gemma: sqrt(hidden)); 1 elsewhere
  v0: u32,     // the first vocabulary row this table holds (a shard's offset; 0 for a whole table)
  Vtotal: u32, // rows of the whole vocabulary
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// ---- forward: out[n, c] = table[tokens[n] - v0, c] * scale for the tokens this shard holds; the
// shard at v0 = 0 writes zeros for a token outside [0, Vtotal); other tokens are left alone ----
@group(0) @binding(1) var<storage, read_write> out: array<f32>;   // (N, C)
@group(0) @binding(2) var<storage, read> table: array<u32>;       // (V, C) f32 bits, or (V, C/2) words of half pairs
@group(0) @binding(3) var<storage, read> tokens: array<i32>;      // (N), both entry points

// Element e of the table in its storage format.
fn table_at(e: u32) -> f32 {
  switch FORMAT {
    case 1u: { return unpack2x16float(table[e / 2u])[e % 2u]; }
    case 2u: { return bitcast<f32>(((table[e / 2u] >> (16u * (e % 2u))) & 0xffffu) << 16u); }
    default: { return bitcast<f32>(table[e]); }
  }
}

@compute @workgroup_size(WG)
fn embedding_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                     @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.N * p.C) { return; }
  let n = i / p.C;
  let c = i - n * p.C;
  let t = tokens[n];
  if (t < 0 || u32(t) >= p.Vtotal) {
    if (p.v0 == 0u) { out[i] = 0.0; }
    return;
  }
  let row = u32(t) - p.v0;  // wraps to a huge value below the shard
  if (row < p.V) { out[i] = table_at(row * p.C + c) * p.scale; }  // exact for scale 1
}

// ---- backward: dtable[v, c] (+)= scale * sum over n with tokens[n] == v0 + v of dout[n, c] ----
// One invocation per (vocab row, channel), looping over all tokens: no float atomics, deterministic,
// O(V * C * N) — only meant for completeness and tests (the base table is frozen).
override ACCUMULATE: bool = true;

@group(0) @binding(1) var<storage, read_write> dtable: array<f32>;  // (V, C)
@group(0) @binding(2) var<storage, read> dout: array<f32>;          // (N, C)

@compute @workgroup_size(WG)
fn embedding_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                      @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.V * p.C) { return; }
  let v = i / p.C;
  let c = i - v * p.C;
  var acc = 0.0;
  for (var n = 0u; n < p.N; n++) {
    if (tokens[n] == i32(v + p.v0)) { acc += dout[n * p.C + c]; }
  }
  acc *= p.scale;
  if (ACCUMULATE) { dtable[i] += acc; } else { dtable[i] = acc; }
}
