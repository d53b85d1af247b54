// Causal grouped-query attention, forward, flash-attention style (no T x T score matrix is stored).
//
// One workgroup per (query block of BR rows, query head h, batch b): grid (ceil(T/BR), H, B).
// The Q tile stays in workgroup memory; each key tile (BC keys and their values) is staged beside
// it, and for each tile:
//   1. scores S = Q K^T (BR x BC) in register blocks of RB rows x 4 keys per invocation, into ss;
//   2. each invocation owns RQ query rows (4; fewer only for D > 128) x NQ vec4 columns of the
//      output: it reads its rows of ss, updates the running max m and sum l of those rows (online
//      softmax; the TPR invocations that share the rows compute the same m and l, which saves a
//      barrier and a shared row buffer) and accumulates P V into RQ x NQ vec4 registers.
// Both products read vec4s of workgroup memory and reuse each one from registers for several
// outputs (1. one key vec4 serves RB rows; 2. one value vec4 serves RQ rows): on a CPU adapter
// (SwiftShader) every workgroup-memory read is a per-lane gather, so these reads, not the FMAs,
// are the cost. Two barriers per key tile: the next keys are staged while P V runs, the values
// while the scores are stored. 16 invocations per workgroup (attentionTiles): on SwiftShader,
// which runs them as fibers switched at every barrier, the bench shapes ran 1.3x slower with 32
// and 1.7x with 64.
// Query head h reads KV head h / (H / KV). The scale (1/sqrt(D) or SCALE) is folded into the Q tile.
// Variants (lib/attention_variant.wgsl, override constants): SOFTCAP caps the scores as they are
// stored in step 1; WINDOW masks keys outside the sliding window and skips the key tiles before
// the window of the block's first row (the work per block is then O(BR (WINDOW + BR)), not O(BR T)),
// and blocks of step 1 whose keys all lie before their rows' windows. Rows are
// zero-padded to D4 = ceil(D / 4) vec4s, so any D works (a model's D is a multiple of 4 in practice).
// Writes out (B, T, H, D) and lse (B, H, T) = m + log(l), the per-row logsumexp the backward uses.
//
// Workgroup memory: (BR + 2 BC) SD vec4 + BR BC f32 = 16 (BR + 2 BC) SD + 4 BR BC bytes, SD = D4 + 1;
// the wrapper (attentionTiles) keeps it within the 16 KiB every WebGPU device guarantees
// (maxComputeWorkgroupStorageSize), e.g. D = 64, BR = BC = 16: 13.8 KiB; D = 128, 8/8: 12.6 KiB.
//
// Row stride SD = D4 + 1 vec4s (not D4): in step 1 the lanes of a warp read the same vec4 column
// of consecutive key rows (a lane's keys are c, c + C4, c + 2 C4, c + 3 C4, so neighbouring lanes
// get neighbouring rows); with an odd stride (D4 even, e.g. 17 for D = 64) those reads fall in
// different banks of a GPU's workgroup memory, with D4 they would all hit one bank.

override D: u32 = 64;   // head dim
override BR: u32 = 16;  // query rows per workgroup (multiple of 4)
override BC: u32 = 16;  // keys per tile (multiple of 4)
override WG: u32 = 16;  // invocations; the wrapper makes WG a multiple of BR / RQ
override RB: u32 = 4;   // query rows per score block (1, 2 or 4); a block is RB rows x 4 keys
override RQ: u32 = 4;   // query rows per invocation in step 2 (1, 2 or 4)
override D4: u32 = (D + 3u) / 4u;        // vec4s per row, the last zero-padded when D % 4 != 0
override SD: u32 = D4 + 1u;              // row stride of the tiles in vec4s (see above)
override C4: u32 = BC / 4u;              // key quads per tile
override TPR: u32 = WG / (BR / RQ);      // invocations per row group in step 2
override NQ: u32 = (D4 + TPR - 1u) / TPR;  // output vec4 columns per invocation (RQ NQ <= 16)
const NEG_BIG: f32 = -3.0e38;

// Params, p, q, k, v and their row readers: lib/attention_rows.wgsl; SCALE, WINDOW, SOFTCAP and
// their helpers: lib/attention_variant.wgsl (both prepended by the wrapper, with lib/tanh.wgsl).
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // (B, T, H, D)
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;  // (B, H, T)

var<workgroup> qs: array<vec4<f32>, BR * SD>;  // (BR, D4) scaled queries, row stride SD
var<workgroup> ks: array<vec4<f32>, BC * SD>;  // (BC, D4) keys of the tile, row stride SD
var<workgroup> vs: array<vec4<f32>, BC * SD>;  // (BC, D4) values of the tile, row stride SD
var<workgroup> ss: array<vec4<f32>, BR * C4>;  // (BR, BC) scores: ss[r * C4 + c] = keys c + C4 * (0, 1, 2, 3)

// Stage keys (or values) k0 .. k0+BC-1 of KV head kvh; rows >= T are zero.
fn stage_keys(t: u32, b: u32, kvh: u32, k0: u32) {
  for (var idx = t; idx < BC * D4; idx += WG) {
    let c = idx / D4;
    let d4 = idx % D4;
    let j = k0 + c;
    var x = vec4(0.0);
    if (j < p.T) { x = k_quad(((b * p.T + j) * p.KV + kvh) * D, 4u * d4); }
    ks[c * SD + d4] = x;
  }
}
fn stage_values(t: u32, b: u32, kvh: u32, k0: u32) {
  for (var idx = t; idx < BC * D4; idx += WG) {
    let c = idx / D4;
    let d4 = idx % D4;
    let j = k0 + c;
    var x = vec4(0.0);
    if (j < p.T) { x = v_quad(((b * p.T + j) * p.KV + kvh) * D, 4u * d4); }
    vs[c * SD + d4] = x;
  }
}

// The 4 dot products of q with 4 keys.
fn dot4(q: vec4<f32>, k0: vec4<f32>, k1: vec4<f32>, k2: vec4<f32>, k3: vec4<f32>) -> vec4<f32> {
  return vec4(dot(q, k0), dot(q, k1), dot(q, k2), dot(q, k3));
}

// Step 1: scores of the tile's blocks, capped with SOFTCAP; blocks whose keys all lie after their
// rows, or all before their rows' windows, are skipped (step 2 masks those entries without reading them). Registers are named, not indexed by loop
// counters: SwiftShader keeps a private array indexed by a variable in memory (per-lane gathers).
fn scores(t: u32, q0: u32, k0: u32) {
  for (var sb = t; sb < (BR / RB) * C4; sb += WG) {
    let r0 = (sb / C4) * RB;
    let c = sb % C4;
    if (k0 + c > q0 + r0 + RB - 1u) { continue; }
    if (!reaches(k0 + c + 3u * C4, q0 + r0)) { continue; }
    var s0 = vec4(0.0);  // s_i = scores of row r0 + i with keys c + C4 * (0, 1, 2, 3)
    var s1 = vec4(0.0);
    var s2 = vec4(0.0);
    var s3 = vec4(0.0);
    for (var d4 = 0u; d4 < D4; d4++) {
      let k0v = ks[c * SD + d4];
      let k1v = ks[(c + C4) * SD + d4];
      let k2v = ks[(c + 2u * C4) * SD + d4];
      let k3v = ks[(c + 3u * C4) * SD + d4];
      let qi = r0 * SD + d4;
      s0 += dot4(qs[qi], k0v, k1v, k2v, k3v);
      if (RB > 1u) { s1 += dot4(qs[qi + SD], k0v, k1v, k2v, k3v); }
      if (RB > 2u) {
        s2 += dot4(qs[qi + 2u * SD], k0v, k1v, k2v, k3v);
        s3 += dot4(qs[qi + 3u * SD], k0v, k1v, k2v, k3v);
      }
    }
    ss[r0 * C4 + c] = cap_scores(s0);
    if (RB > 1u) { ss[(r0 + 1u) * C4 + c] = cap_scores(s1); }
    if (RB > 2u) {
      ss[(r0 + 2u) * C4 + c] = cap_scores(s2);
      ss[(r0 + 3u) * C4 + c] = cap_scores(s3);
    }
  }
}

fn hmax(x: vec4<f32>) -> f32 { return max(max(x.x, x.y), max(x.z, x.w)); }
fn hsum(x: vec4<f32>) -> f32 { return dot(x, vec4(1.0)); }

// Scores of staged row r (query `row`) with key quad c (`keys`), NEG_BIG where a key lies after the
// row or before its window.
fn masked(r: u32, row: u32, c: u32, keys: vec4<u32>) -> vec4<f32> {
  return select(vec4(NEG_BIG), ss[r * C4 + c], (keys <= vec4(row)) & in_window(keys, row));
}

// exp(x - m) of masked scores x. With a window a row may have seen no key yet (m = NEG_BIG, so
// masked entries would give exp(0) = 1): masked entries are then 0 explicitly. Without a window
// key 0 is in the first tile, so m is finite and exp(NEG_BIG - m) = 0 already.
fn probs(x: vec4<f32>, m: f32) -> vec4<f32> {
  let e = exp(x - m);
  if (WINDOW > 0u) { return select(vec4(0.0), e, x > vec4(NEG_BIG)); }
  return e;
}

// acc += the outer product of pc (one key's probabilities for the invocation's rows) and that
// key's value vec4s at vs[base], vs[base + TPR], ...; acc[4 n + i]: row i, vec4 column slot n.
fn pv_key(acc: ptr<function, array<vec4<f32>, 16>>, pc: vec4<f32>, base: u32) {
  let v0 = vs[base];
  (*acc)[0] += pc.x * v0; (*acc)[1] += pc.y * v0; (*acc)[2] += pc.z * v0; (*acc)[3] += pc.w * v0;
  if (NQ > 1u) {
    let v1 = vs[base + TPR];
    (*acc)[4] += pc.x * v1; (*acc)[5] += pc.y * v1; (*acc)[6] += pc.z * v1; (*acc)[7] += pc.w * v1;
  }
  if (NQ > 2u) {
    let v2 = vs[base + 2u * TPR];
    (*acc)[8] += pc.x * v2; (*acc)[9] += pc.y * v2; (*acc)[10] += pc.z * v2; (*acc)[11] += pc.w * v2;
  }
  if (NQ > 3u) {
    let v3 = vs[base + 3u * TPR];
    (*acc)[12] += pc.x * v3; (*acc)[13] += pc.y * v3; (*acc)[14] += pc.z * v3; (*acc)[15] += pc.w * v3;
  }
}

// acc[4 n + i] *= alpha[i]: each row's output rescaled to its new running max.
fn rescale(acc: ptr<function, array<vec4<f32>, 16>>, alpha: vec4<f32>) {
  (*acc)[0] *= alpha.x; (*acc)[1] *= alpha.y; (*acc)[2] *= alpha.z; (*acc)[3] *= alpha.w;
  if (NQ > 1u) { (*acc)[4] *= alpha.x; (*acc)[5] *= alpha.y; (*acc)[6] *= alpha.z; (*acc)[7] *= alpha.w; }
  if (NQ > 2u) { (*acc)[8] *= alpha.x; (*acc)[9] *= alpha.y; (*acc)[10] *= alpha.z; (*acc)[11] *= alpha.w; }
  if (NQ > 3u) { (*acc)[12] *= alpha.x; (*acc)[13] *= alpha.y; (*acc)[14] *= alpha.z; (*acc)[15] *= alpha.w; }
}

// out[o + 4 dn ..] = x, the elements below D of vec4 column dn (if dn < D4).
fn put(o: u32, dn: u32, x: vec4<f32>) {
  if (dn >= D4) { return; }
  for (var e = 0u; e < 4u; e++) {
    if (4u * dn + e < D) { out[o + 4u * dn + e] = x[e]; }
  }
}

// Row i of the invocation's registers (query `row` of head h, batch b): out = acc / l, lse = m + log(l).
fn write_row(i: u32, row: u32, m: f32, l: f32, acc: ptr<function, array<vec4<f32>, 16>>, b: u32, h: u32, part: u32) {
  if (row >= p.T) { return; }
  if (part == 0u) { lse[(b * p.H + h) * p.T + row] = m + log(l); }
  let o = ((b * p.T + row) * p.H + h) * D;
  put(o, part, (*acc)[i] / l);
  if (NQ > 1u) { put(o, part + TPR, (*acc)[4u + i] / l); }
  if (NQ > 2u) { put(o, part + 2u * TPR, (*acc)[8u + i] / l); }
  if (NQ > 3u) { put(o, part + 3u * TPR, (*acc)[12u + i] / l); }
}

@compute @workgroup_size(WG)
fn attention_forward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let T = p.T;
  let H = p.H;
  let q0 = wid.x * BR;
  let h = wid.y;
  let b = wid.z;
  let kvh = h / (H / p.KV);
  let scale = score_scale();

  for (var idx = t; idx < BR * D4; idx += WG) {
    let r = idx / D4;
    let d4 = idx % D4;
    let i = q0 + r;
    var x = vec4(0.0);
    if (i < T) { x = q_quad(((b * T + i) * H + h) * D, 4u * d4); }
    qs[r * SD + d4] = x * scale;
  }
  // Key tiles before the window of the block's first row hold no key any of its rows sees.
  let tile0 = first_key(q0) / BC;
  stage_keys(t, b, kvh, tile0 * BC);

  // Step 2's share of this invocation: rows r0 .. r0 + RQ - 1, vec4 columns part + TPR * n.
  // Rows i >= RQ of the 4-row registers (RQ < 4 only for large D) are computed and never written.
  let r0 = RQ * (t / TPR);
  let part = t % TPR;
  let rows = vec4(q0 + r0) + vec4(0u, 1u, 2u, 3u);
  let rowMax = q0 + r0 + RQ - 1u;
  var acc: array<vec4<f32>, 16>;  // acc[4 n + i]: row r0 + i, vec4 column part + TPR n (zero-initialised)
  var m = vec4(NEG_BIG);          // running max of each row
  var l = vec4(0.0);              // running sum of each row
  let qEnd = min(q0 + BR, T);     // rows q0 .. qEnd-1 see keys 0 .. qEnd-1 (grid only has q0 < T)
  let nTiles = (qEnd + BC - 1u) / BC;

  for (var tile = tile0; tile < nTiles; tile++) {
    let k0 = tile * BC;
    workgroupBarrier();  // keys staged; the previous tile's step 2 is done with ss and vs
    scores(t, q0, k0);
    stage_values(t, b, kvh, k0);
    workgroupBarrier();  // scores and values staged; keys no longer read
    if (tile + 1u < nTiles) { stage_keys(t, b, kvh, k0 + BC); }

    // Else every key of the tile lies after the rows, or before their windows (no continue: barriers follow).
    if (k0 <= rowMax && reaches(k0 + BC - 1u, q0 + r0)) {
      // Key quad c holds keys k0 + c + C4 * (0..3); quads c > rowMax - k0 are masked for all the rows.
      let cEnd = min(C4, rowMax - k0 + 1u);
      var mNew = m;
      for (var c = 0u; c < cEnd; c++) {
        let keys = vec4(k0 + c) + C4 * vec4(0u, 1u, 2u, 3u);
        var mx = vec4(NEG_BIG);
        mx.x = hmax(masked(r0, rows.x, c, keys));
        if (RQ > 1u) { mx.y = hmax(masked(r0 + 1u, rows.y, c, keys)); }
        if (RQ > 2u) {
          mx.z = hmax(masked(r0 + 2u, rows.z, c, keys));
          mx.w = hmax(masked(r0 + 3u, rows.w, c, keys));
        }
        mNew = max(mNew, mx);
      }
      // Without a window key 0 is in the first tile, so mNew is finite from then on and alpha is 0
      // the first time; with one, alpha is 1 (m = mNew = NEG_BIG, l and acc 0) until a row's first key.
      let alpha = exp(m - mNew);
      m = mNew;
      l *= alpha;
      rescale(&acc, alpha);
      for (var c = 0u; c < cEnd; c++) {
        let keys = vec4(k0 + c) + C4 * vec4(0u, 1u, 2u, 3u);
        // p_i: probabilities of row r0 + i with the quad's 4 keys (exp(NEG_BIG - m) = 0 where masked)
        let p0 = probs(masked(r0, rows.x, c, keys), mNew.x);
        var p1 = vec4(0.0);
        var p2 = vec4(0.0);
        var p3 = vec4(0.0);
        if (RQ > 1u) { p1 = probs(masked(r0 + 1u, rows.y, c, keys), mNew.y); }
        if (RQ > 2u) {
          p2 = probs(masked(r0 + 2u, rows.z, c, keys), mNew.z);
          p3 = probs(masked(r0 + 3u, rows.w, c, keys), mNew.w);
        }
        l += vec4(hsum(p0), hsum(p1), hsum(p2), hsum(p3));
        let base = c * SD + part;
        pv_key(&acc, vec4(p0.x, p1.x, p2.x, p3.x), base);
        pv_key(&acc, vec4(p0.y, p1.y, p2.y, p3.y), base + C4 * SD);
        pv_key(&acc, vec4(p0.z, p1.z, p2.z, p3.z), base + 2u * C4 * SD);
        pv_key(&acc, vec4(p0.w, p1.w, p2.w, p3.w), base + 3u * C4 * SD);
      }
    }
  }

  write_row(0u, rows.x, m.x, l.x, &acc, b, h, part);
  if (RQ > 1u) { write_row(1u, rows.y, m.y, l.y, &acc, b, h, part); }
  if (RQ > 2u) {
    write_row(2u, rows.z, m.z, l.z, &acc, b, h, part);
    write_row(3u, rows.w, m.w, l.w, &acc, b, h, part);
  }
}
