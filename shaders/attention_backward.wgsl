// Causal grouped-query attention, backward, FlashAttention-2 split (no atomics, no T x T matrix).
// With s_ij = q_i.k_j * scale (scale = 1/sqrt(D) or SCALE), S_ij = s_ij or, with SOFTCAP,
// SOFTCAP tanh(s_ij / SOFTCAP), and p_ij = exp(S_ij - lse_i) recomputed from the forward's lse:
//   Dvec_i = sum_d dout_id out_id  (= sum_j p_ij dp_ij),   dp_ij = dout_i.v_j,
//   ds_ij = p_ij (dp_ij - Dvec_i) dS/ds,   dq_i = sum_j ds_ij k_j * scale,
//   dk_j = sum_{h in group} sum_i ds_ij q_i * scale,   dv_j = sum_{h in group} sum_i p_ij dout_i,
// dS/ds = 1 - (S / SOFTCAP)^2 (1 without a cap). With a WINDOW, p_ij = 0 outside i - WINDOW < j <= i,
// and dq skips the key tiles before its block's window, dkdv the query tiles after its keys' windows.
// Three entry points: attention_bwd_dvec (one thread per row), attention_bwd_dq (one workgroup
// per query block of one head, loops over key tiles), attention_bwd_dkdv (one workgroup per key
// block of one KV head, loops over the H/KV query heads of its group and their query tiles).
// dq, dk, dv are OVERWRITTEN unless ACCUMULATE is true (then +=).
//
// dq and dkdv work in two steps per tile, like the forward (shaders/attention_forward.wgsl):
//   1. s and dp in register blocks of RB query rows x 4 keys per invocation, reading vec4s of the
//      staged q, dout, k, v rows (one key vec4 serves RB rows), giving p and ds in workgroup memory;
//   2. dq: each invocation owns RQ query rows x NQ vec4 columns and adds ds K (one key vec4 serves
//      RQ rows); dkdv: each owns 4 keys x NQ vec4 columns of dk and of dv and adds ds^T Q and
//      p^T dout (one q or dout vec4 serves 4 keys).
// On a CPU adapter every workgroup-memory read is a per-lane gather, so reuse from registers, not
// the FMAs, sets the speed. Three barriers per tile (stage, step 1, step 2).
// Rows are zero-padded to D4 = ceil(D / 4) vec4s, so any D works; row stride SD = D4 + 1 vec4s so
// that the lanes of step 1, which read the same column of neighbouring key rows (a lane's keys are
// c, c + C4, c + 2 C4, c + 3 C4), hit different banks of a GPU's workgroup memory (D4 even).
//
// Workgroup memory (bytes), SD = D4 + 1:
//   dq:   16 (2 BR + 2 BC) SD + 4 BR BC + 8 BR   D = 64, BR 16, BC 8: 13.4 KiB; D = 128, 8/4: 12.6 KiB
//   dkdv: 16 (2 BC + 2 BR) SD + 8 BR BC + 8 BR   D = 64, BR 16, BC 8: 13.9 KiB; D = 128, 8/4: 12.7 KiB
// The wrapper (attentionTiles) keeps both within the guaranteed 16 KiB (maxComputeWorkgroupStorageSize).

override D: u32 = 64;   // head dim
override BR: u32 = 16;  // query rows per tile
override BC: u32 = 8;   // keys per tile (multiple of 4)
override WG: u32 = 16;  // invocations: a multiple of BR / RQ (dq) and of BC / 4 (dkdv)
override RB: u32 = 2;   // query rows per score block (1, 2 or 4); a block is RB rows x 4 keys
override RQ: u32 = 4;   // dq: query rows per invocation in step 2 (1, 2 or 4)
override ACCUMULATE: bool = false;
override D4: u32 = (D + 3u) / 4u;  // vec4s per row, the last zero-padded when D % 4 != 0
override SD: u32 = D4 + 1u;        // row stride of the tiles in vec4s (see above)
override C4: u32 = BC / 4u;        // key quads per tile
override TPR: u32 = WG / max(1u, BR / RQ);  // dq: invocations per row group in step 2
override NQ: u32 = (D4 + TPR - 1u) / TPR;   // dq: vec4 columns per invocation (<= 4)
override TPK: u32 = WG / C4;                // dkdv: invocations per key quad in step 2
override NK: u32 = (D4 + TPK - 1u) / TPK;   // dkdv: vec4 columns per invocation (<= 2)
const DVEC_WG: u32 = 64u;

// Params, p, q, k, v and their row readers: lib/attention_rows.wgsl; SCALE, WINDOW, SOFTCAP and
// their helpers: lib/attention_variant.wgsl (both prepended by the wrapper, with lib/tanh.wgsl).

// ---- Dvec (B, H, T) = rowsum(dout * out); rows enumerated (b, i, h), grid 2D: row = y * nx * WG + x ----
@group(0) @binding(1) var<storage, read_write> dvec_out: array<f32>;  // (B, H, T)
@group(0) @binding(2) var<storage, read> dout_rows: array<f32>;       // (B, T, H, D)
@group(0) @binding(3) var<storage, read> out_rows: array<f32>;        // (B, T, H, D)

@compute @workgroup_size(DVEC_WG)
fn attention_bwd_dvec(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.y * nwg.x * DVEC_WG + gid.x;  // (b * T + i) * H + h
  if (row >= p.B * p.T * p.H) { return; }
  let h = row % p.H;
  let bi = row / p.H;
  let b = bi / p.T;
  let i = bi % p.T;
  var s = 0.0;
  for (var d = 0u; d < D; d++) { s += dout_rows[row * D + d] * out_rows[row * D + d]; }
  dvec_out[(b * p.H + h) * p.T + i] = s;
}

// ---- bindings shared by dq and dkdv (q, k, v at 1-3: attention_rows.wgsl) ----
@group(0) @binding(4) var<storage, read> dout: array<f32>;   // (B, T, H, D)
@group(0) @binding(5) var<storage, read> lse: array<f32>;    // (B, H, T)
@group(0) @binding(6) var<storage, read> dvec: array<f32>;   // (B, H, T)
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;  // (B, T, H, D)   dq entry
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;  // (B, T, KV, D)  dkdv entry
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;  // (B, T, KV, D)  dkdv entry

var<workgroup> qs: array<vec4<f32>, BR * SD>;   // (BR, D4) queries of a tile, row stride SD
var<workgroup> dos: array<vec4<f32>, BR * SD>;  // (BR, D4) dout of a tile
var<workgroup> ks: array<vec4<f32>, BC * SD>;   // (BC, D4) keys (dkdv: times the scale)
var<workgroup> vs: array<vec4<f32>, BC * SD>;   // (BC, D4) values
var<workgroup> ps: array<vec4<f32>, BR * C4>;   // (BR, BC) dkdv: p; ps[r * C4 + c] = keys c + C4 * (0, 1, 2, 3)
var<workgroup> dss: array<vec4<f32>, BR * C4>;  // (BR, BC) ds, same layout
var<workgroup> rowLse: array<f32, BR>;
var<workgroup> rowD: array<f32, BR>;

// Elements d .. d+3 of a dout row (as q_quad).
fn dout_quad(o: u32, d: u32) -> vec4<f32> {
  if (D % 4u == 0u) { return vec4(dout[o + d], dout[o + d + 1u], dout[o + d + 2u], dout[o + d + 3u]); }
  var r = vec4(0.0);
  for (var e = 0u; e < 4u; e++) { if (d + e < D) { r[e] = dout[o + d + e]; } }
  return r;
}

// Stage rows r0 .. r0+BR-1 of head h (q, dout, lse, Dvec); rows >= T are zero.
fn stage_queries(t: u32, b: u32, h: u32, r0: u32) {
  let T = p.T;
  let H = p.H;
  for (var idx = t; idx < BR * D4; idx += WG) {
    let r = idx / D4;
    let d4 = idx % D4;
    let i = r0 + r;
    var x = vec4(0.0);
    var y = vec4(0.0);
    if (i < T) {
      let o = ((b * T + i) * H + h) * D;
      x = q_quad(o, 4u * d4);
      y = dout_quad(o, 4u * d4);
    }
    qs[r * SD + d4] = x;
    dos[r * SD + d4] = y;
  }
  for (var r = t; r < BR; r += WG) {
    let i = r0 + r;
    var a = 0.0;
    var c = 0.0;
    if (i < T) {
      a = lse[(b * H + h) * T + i];
      c = dvec[(b * H + h) * T + i];
    }
    rowLse[r] = a;
    rowD[r] = c;
  }
}

// Stage keys and values k0 .. k0+BC-1 of KV head kvh, the keys times kscale; rows >= T are zero.
fn stage_keys(t: u32, b: u32, kvh: u32, k0: u32, kscale: f32) {
  for (var idx = t; idx < BC * D4; idx += WG) {
    let c = idx / D4;
    let d4 = idx % D4;
    let j = k0 + c;
    var x = vec4(0.0);
    var y = vec4(0.0);
    if (j < p.T) {
      let o = ((b * p.T + j) * p.KV + kvh) * D;
      x = k_quad(o, 4u * d4);
      y = v_quad(o, 4u * d4);
    }
    ks[c * SD + d4] = x * kscale;
    vs[c * SD + d4] = y;
  }
}

// Step 1 for the block of rows r0 .. r0+RB-1 and keys c + C4 * (0..3) of the staged tiles:
// s_i = q_{r0+i} . k and dp_i = dout_{r0+i} . v of the 4 keys. Registers are named, not indexed by
// loop counters: SwiftShader keeps a private array indexed by a variable in memory (per-lane gathers).
struct Block {
  s0: vec4<f32>, s1: vec4<f32>, s2: vec4<f32>, s3: vec4<f32>,
  dp0: vec4<f32>, dp1: vec4<f32>, dp2: vec4<f32>, dp3: vec4<f32>,
}
fn dot4(q: vec4<f32>, k0: vec4<f32>, k1: vec4<f32>, k2: vec4<f32>, k3: vec4<f32>) -> vec4<f32> {
  return vec4(dot(q, k0), dot(q, k1), dot(q, k2), dot(q, k3));
}
fn block_products(r0: u32, c: u32) -> Block {
  var o: Block;
  for (var d4 = 0u; d4 < D4; d4++) {
    let k0v = ks[c * SD + d4];
    let k1v = ks[(c + C4) * SD + d4];
    let k2v = ks[(c + 2u * C4) * SD + d4];
    let k3v = ks[(c + 3u * C4) * SD + d4];
    let v0v = vs[c * SD + d4];
    let v1v = vs[(c + C4) * SD + d4];
    let v2v = vs[(c + 2u * C4) * SD + d4];
    let v3v = vs[(c + 3u * C4) * SD + d4];
    let qi = r0 * SD + d4;
    o.s0 += dot4(qs[qi], k0v, k1v, k2v, k3v);
    o.dp0 += dot4(dos[qi], v0v, v1v, v2v, v3v);
    if (RB > 1u) {
      o.s1 += dot4(qs[qi + SD], k0v, k1v, k2v, k3v);
      o.dp1 += dot4(dos[qi + SD], v0v, v1v, v2v, v3v);
    }
    if (RB > 2u) {
      o.s2 += dot4(qs[qi + 2u * SD], k0v, k1v, k2v, k3v);
      o.dp2 += dot4(dos[qi + 2u * SD], v0v, v1v, v2v, v3v);
      o.s3 += dot4(qs[qi + 3u * SD], k0v, k1v, k2v, k3v);
      o.dp3 += dot4(dos[qi + 3u * SD], v0v, v1v, v2v, v3v);
    }
  }
  return o;
}

// p of staged row r (query `row`) with `keys` from its (capped) scores S: zero where a key lies after
// the row or before its window, or the row is past T.
fn probs(S: vec4<f32>, r: u32, row: u32, keys: vec4<u32>) -> vec4<f32> {
  return select(vec4(0.0), exp(S - rowLse[r]), (keys <= vec4(row)) & in_window(keys, row) & vec4(row < p.T));
}

// ds of staged row r from its scaled scores s and dp: p (dp - Dvec) dS/ds.
fn dscores(s: vec4<f32>, dp: vec4<f32>, r: u32, row: u32, keys: vec4<u32>) -> vec4<f32> {
  if (SOFTCAP > 0.0) {
    let S = cap_scores(s);
    return probs(S, r, row, keys) * (dp - rowD[r]) * cap_grad(S);
  }
  return probs(s, r, row, keys) * (dp - rowD[r]);
}

// Whether block (rows r .. r + RB - 1 from query i0, keys c + C4 * (0..3) from k0) has a key that
// one of its rows sees: not all after the rows, not all before their windows.
fn block_live(i0: u32, r: u32, k0: u32, c: u32) -> bool {
  return k0 + c <= i0 + r + RB - 1u && reaches(k0 + c + 3u * C4, i0 + r);
}

// Step 1 of block sb for query rows i0 .. and keys k0 ..: ds into dss (dkdv: and p into ps);
// a block without a key its rows see is written as zeros without reading the tiles.
fn step1_dq(sb: u32, i0: u32, k0: u32, sscale: f32) {
  let r = (sb / C4) * RB;
  let c = sb % C4;
  let keys = vec4(k0 + c) + C4 * vec4(0u, 1u, 2u, 3u);
  var o: Block;
  if (block_live(i0, r, k0, c)) { o = block_products(r, c); }
  dss[r * C4 + c] = dscores(o.s0 * sscale, o.dp0, r, i0 + r, keys);
  if (RB > 1u) { dss[(r + 1u) * C4 + c] = dscores(o.s1 * sscale, o.dp1, r + 1u, i0 + r + 1u, keys); }
  if (RB > 2u) {
    dss[(r + 2u) * C4 + c] = dscores(o.s2 * sscale, o.dp2, r + 2u, i0 + r + 2u, keys);
    dss[(r + 3u) * C4 + c] = dscores(o.s3 * sscale, o.dp3, r + 3u, i0 + r + 3u, keys);
  }
}
fn step1_dkdv_row(r: u32, row: u32, c: u32, keys: vec4<u32>, s: vec4<f32>, dp: vec4<f32>) {
  let S = cap_scores(s);
  let pr = probs(S, r, row, keys);
  ps[r * C4 + c] = pr;
  if (SOFTCAP > 0.0) {
    dss[r * C4 + c] = pr * (dp - rowD[r]) * cap_grad(S);
  } else {
    dss[r * C4 + c] = pr * (dp - rowD[r]);
  }
}
fn step1_dkdv(sb: u32, i0: u32, k0: u32) {
  let r = (sb / C4) * RB;
  let c = sb % C4;
  let keys = vec4(k0 + c) + C4 * vec4(0u, 1u, 2u, 3u);
  var o: Block;
  if (block_live(i0, r, k0, c)) { o = block_products(r, c); }
  step1_dkdv_row(r, i0 + r, c, keys, o.s0, o.dp0);
  if (RB > 1u) { step1_dkdv_row(r + 1u, i0 + r + 1u, c, keys, o.s1, o.dp1); }
  if (RB > 2u) {
    step1_dkdv_row(r + 2u, i0 + r + 2u, c, keys, o.s2, o.dp2);
    step1_dkdv_row(r + 3u, i0 + r + 3u, c, keys, o.s3, o.dp3);
  }
}

// dq step 2 for one key: acc[4 n + i] += dc[i] * (the key's vec4 column part + TPR n), dc = the
// invocation's rows' ds with that key, base = index in ks of the key row's column `part`.
fn dq_key(acc: ptr<function, array<vec4<f32>, 16>>, dc: vec4<f32>, base: u32) {
  let k0v = ks[base];
  (*acc)[0] += dc.x * k0v; (*acc)[1] += dc.y * k0v; (*acc)[2] += dc.z * k0v; (*acc)[3] += dc.w * k0v;
  if (NQ > 1u) {
    let k1v = ks[base + TPR];
    (*acc)[4] += dc.x * k1v; (*acc)[5] += dc.y * k1v; (*acc)[6] += dc.z * k1v; (*acc)[7] += dc.w * k1v;
  }
  if (NQ > 2u) {
    let k2v = ks[base + 2u * TPR];
    (*acc)[8] += dc.x * k2v; (*acc)[9] += dc.y * k2v; (*acc)[10] += dc.z * k2v; (*acc)[11] += dc.w * k2v;
  }
  if (NQ > 3u) {
    let k3v = ks[base + 3u * TPR];
    (*acc)[12] += dc.x * k3v; (*acc)[13] += dc.y * k3v; (*acc)[14] += dc.z * k3v; (*acc)[15] += dc.w * k3v;
  }
}

// The elements below D of vec4 column dn (if dn < D4) of the row at o: dst = x (+= with ACCUMULATE).
fn put_dq(o: u32, dn: u32, x: vec4<f32>) {
  if (dn >= D4) { return; }
  for (var e = 0u; e < 4u; e++) {
    let d = 4u * dn + e;
    if (d < D) {
      var y = x[e];
      if (ACCUMULATE) { y += dq[o + d]; }
      dq[o + d] = y;
    }
  }
}
fn put_dk(o: u32, dn: u32, x: vec4<f32>) {
  if (dn >= D4) { return; }
  for (var e = 0u; e < 4u; e++) {
    let d = 4u * dn + e;
    if (d < D) {
      var y = x[e];
      if (ACCUMULATE) { y += dk[o + d]; }
      dk[o + d] = y;
    }
  }
}
fn put_dv(o: u32, dn: u32, x: vec4<f32>) {
  if (dn >= D4) { return; }
  for (var e = 0u; e < 4u; e++) {
    let d = 4u * dn + e;
    if (d < D) {
      var y = x[e];
      if (ACCUMULATE) { y += dv[o + d]; }
      dv[o + d] = y;
    }
  }
}

// Row i of the dq registers (query `row` of head h, batch b), times the scale.
fn write_dq_row(i: u32, row: u32, acc: ptr<function, array<vec4<f32>, 16>>, b: u32, h: u32, part: u32, scale: f32) {
  if (row >= p.T) { return; }
  let o = ((b * p.T + row) * p.H + h) * D;
  put_dq(o, part, (*acc)[i] * scale);
  if (NQ > 1u) { put_dq(o, part + TPR, (*acc)[4u + i] * scale); }
  if (NQ > 2u) { put_dq(o, part + 2u * TPR, (*acc)[8u + i] * scale); }
  if (NQ > 3u) { put_dq(o, part + 3u * TPR, (*acc)[12u + i] * scale); }
}

@compute @workgroup_size(WG)
fn attention_bwd_dq(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let T = p.T;
  let H = p.H;
  let q0 = wid.x * BR;
  let h = wid.y;
  let b = wid.z;
  let kvh = h / (H / p.KV);
  let scale = score_scale();
  stage_queries(t, b, h, q0);

  // Step 2's share of this invocation: rows r0 .. r0 + RQ - 1, vec4 columns part + TPR * n.
  // Rows i >= RQ of the 4-row registers (RQ < 4 only for large D) are computed and never written.
  let r0 = RQ * (t / TPR);
  let part = t % TPR;
  let rowMax = q0 + r0 + RQ - 1u;
  var acc: array<vec4<f32>, 16>;  // acc[4 n + i]: row r0 + i, vec4 column part + TPR n
  let qEnd = min(q0 + BR, T);
  let nTiles = (qEnd + BC - 1u) / BC;
  // Key tiles before the window of the block's first row hold no key any of its rows sees.
  for (var tile = first_key(q0) / BC; tile < nTiles; tile++) {
    let k0 = tile * BC;
    workgroupBarrier();  // the previous tile's step 2 is done with ks and dss
    stage_keys(t, b, kvh, k0, 1.0);
    workgroupBarrier();
    for (var sb = t; sb < (BR / RB) * C4; sb += WG) { step1_dq(sb, q0, k0, scale); }
    workgroupBarrier();
    if (k0 <= rowMax && reaches(k0 + BC - 1u, q0 + r0)) {  // else all of ds is 0 for these rows
      let cEnd = min(C4, rowMax - k0 + 1u);  // later key quads are masked for all the rows
      for (var c = 0u; c < cEnd; c++) {
        let d0 = dss[r0 * C4 + c];  // ds of row r0 + i with keys c + C4 * (0..3)
        var d1 = vec4(0.0);
        var d2 = vec4(0.0);
        var d3 = vec4(0.0);
        if (RQ > 1u) { d1 = dss[(r0 + 1u) * C4 + c]; }
        if (RQ > 2u) {
          d2 = dss[(r0 + 2u) * C4 + c];
          d3 = dss[(r0 + 3u) * C4 + c];
        }
        let base = c * SD + part;
        dq_key(&acc, vec4(d0.x, d1.x, d2.x, d3.x), base);
        dq_key(&acc, vec4(d0.y, d1.y, d2.y, d3.y), base + C4 * SD);
        dq_key(&acc, vec4(d0.z, d1.z, d2.z, d3.z), base + 2u * C4 * SD);
        dq_key(&acc, vec4(d0.w, d1.w, d2.w, d3.w), base + 3u * C4 * SD);
      }
    }
  }

  write_dq_row(0u, q0 + r0, &acc, b, h, part, scale);
  if (RQ > 1u) { write_dq_row(1u, q0 + r0 + 1u, &acc, b, h, part, scale); }
  if (RQ > 2u) {
    write_dq_row(2u, q0 + r0 + 2u, &acc, b, h, part, scale);
    write_dq_row(3u, q0 + r0 + 3u, &acc, b, h, part, scale);
  }
}

// dkdv step 2 for staged query row r: the invocation's 4 keys (quad c) x NK vec4 columns,
// ak[4 n + j] += ds_j q_r, av[4 n + j] += p_j dout_r.
fn dkdv_row(ak: ptr<function, array<vec4<f32>, 8>>, av: ptr<function, array<vec4<f32>, 8>>, r: u32, c: u32, part: u32) {
  let pr = ps[r * C4 + c];
  let ds = dss[r * C4 + c];
  let q0v = qs[r * SD + part];
  let d0v = dos[r * SD + part];
  (*ak)[0] += ds.x * q0v; (*ak)[1] += ds.y * q0v; (*ak)[2] += ds.z * q0v; (*ak)[3] += ds.w * q0v;
  (*av)[0] += pr.x * d0v; (*av)[1] += pr.y * d0v; (*av)[2] += pr.z * d0v; (*av)[3] += pr.w * d0v;
  if (NK > 1u) {
    let q1v = qs[r * SD + part + TPK];
    let d1v = dos[r * SD + part + TPK];
    (*ak)[4] += ds.x * q1v; (*ak)[5] += ds.y * q1v; (*ak)[6] += ds.z * q1v; (*ak)[7] += ds.w * q1v;
    (*av)[4] += pr.x * d1v; (*av)[5] += pr.y * d1v; (*av)[6] += pr.z * d1v; (*av)[7] += pr.w * d1v;
  }
}

// Key j of the dk/dv registers (key `key` of KV head kvh, batch b); dk times the scale.
fn write_dkdv_key(j: u32, key: u32, ak: ptr<function, array<vec4<f32>, 8>>, av: ptr<function, array<vec4<f32>, 8>>,
                  b: u32, kvh: u32, part: u32, scale: f32) {
  if (key >= p.T) { return; }
  let o = ((b * p.T + key) * p.KV + kvh) * D;
  put_dk(o, part, (*ak)[j] * scale);
  put_dv(o, part, (*av)[j]);
  if (NK > 1u) {
    put_dk(o, part + TPK, (*ak)[4u + j] * scale);
    put_dv(o, part + TPK, (*av)[4u + j]);
  }
}

@compute @workgroup_size(WG)
fn attention_bwd_dkdv(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let T = p.T;
  let H = p.H;
  let group = H / p.KV;
  let k0 = wid.x * BC;
  let kvh = wid.y;
  let b = wid.z;
  let scale = score_scale();
  stage_keys(t, b, kvh, k0, scale);

  // Step 2's share of this invocation: keys c + C4 * (0..3), vec4 columns part + TPK * n.
  let c = t / TPK;
  let part = t % TPK;
  var ak: array<vec4<f32>, 8>;  // ak[4 n + j]: dk of key k0 + c + C4 j, vec4 column part + TPK n
  var av: array<vec4<f32>, 8>;  // av: dv, the same layout
  let firstTile = k0 / BR;  // queries i < k0 see none of these keys
  var nTiles = (T + BR - 1u) / BR;
  // The last query that sees one of these keys: k0 + BC - 1 + WINDOW - 1.
  if (WINDOW > 0u) { nTiles = min(nTiles, (k0 + BC + WINDOW - 2u) / BR + 1u); }
  // Queries from k0 + c + 3 C4 + WINDOW on see none of the invocation's keys.
  let rowLim = k0 + c + 3u * C4 + WINDOW;
  for (var hh = 0u; hh < group; hh++) {
    let h = kvh * group + hh;
    for (var tile = firstTile; tile < nTiles; tile++) {
      let i0 = tile * BR;
      workgroupBarrier();  // the previous tile's step 2 is done with qs, dos, ps, dss
      stage_queries(t, b, h, i0);
      workgroupBarrier();
      for (var sb = t; sb < (BR / RB) * C4; sb += WG) { step1_dkdv(sb, i0, k0); }
      workgroupBarrier();
      // Rows before the quad's first key k0 + c see none of its keys (nor, with a window, rows from rowLim).
      var rEnd = BR;
      if (WINDOW > 0u) { rEnd = select(0u, min(BR, rowLim - i0), rowLim > i0); }
      for (var r = min(BR, max(i0, k0 + c) - i0); r < rEnd; r++) { dkdv_row(&ak, &av, r, c, part); }
    }
  }

  write_dkdv_key(0u, k0 + c, &ak, &av, b, kvh, part, scale);
  write_dkdv_key(1u, k0 + c + C4, &ak, &av, b, kvh, part, scale);
  write_dkdv_key(2u, k0 + c + 2u * C4, &ak, &av, b, kvh, part, scale);
  write_dkdv_key(3u, k0 + c + 3u * C4, &ak, &av, b, kvh, part, scale);
}
