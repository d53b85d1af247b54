// Causal grouped-query attention, backward, FlashAttention-2 split (no atomics, no T x T matrix).
// With s_ij = q_i.k_j / sqrt(D), p_ij = exp(s_ij - lse_i) recomputed from the forward's lse:
//   Dvec_i = sum_d dout_id out_id  (= sum_j p_ij dp_ij),   dp_ij = dout_i.v_j,
//   ds_ij = p_ij (dp_ij - Dvec_i),   dq_i = sum_j ds_ij k_j / sqrt(D),
//   dk_j = sum_{h in group} sum_i ds_ij q_i / sqrt(D),   dv_j = sum_{h in group} sum_i p_ij dout_i.
// Three entry points: attention_bwd_dvec (one thread per row), attention_bwd_dq (one workgroup
// per query block of one head, loops over key tiles), attention_bwd_dkdv (one workgroup per key
// block of one KV head, loops over the H/KV query heads of its group and their query tiles).
// dq, dk, dv are OVERWRITTEN unless ACCUMULATE is true (then +=).
//
// Workgroup memory (f32 words), rows padded to DP = D + 1:
//   dq:   (2 BR + BC) DP + BR BC + 2 BR       D = 64, BR = BC = 16: 13.3 KiB; D = 128, 8/8: 12.4 KiB
//   dkdv: (2 BC + 2 BR) DP + 2 BR BC + 2 BR   D = 64, BC = 16, BR = 8: 13.3 KiB; D = 128, 8/4: 12.4 KiB
// The wrapper picks the tiles so both stay within the guaranteed 16 KiB (maxComputeWorkgroupStorageSize).

override D: u32 = 64;   // head dim
override BR: u32 = 16;  // query rows per tile
override BC: u32 = 16;  // keys per tile
override DP: u32 = D + 1u;  // padded row stride (not set by the wrapper)
override ACCUMULATE: bool = false;
const WG: u32 = 64u;
const NACC: u32 = 16u;  // accumulator elements per thread: BR * D (dq), BC * D (dkdv) <= WG * NACC

struct Params {
  B: u32,
  T: u32,
  H: u32,
  KV: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

// ---- Dvec (B, H, T) = rowsum(dout * out); rows enumerated (b, i, h), grid 2D: row = y * nx * WG + x ----
@group(0) @binding(1) var<storage, read_write> dvec_out: array<f32>;  // (B, H, T)
@group(0) @binding(2) var<storage, read> dout_rows: array<f32>;       // (B, T, H, D)
@group(0) @binding(3) var<storage, read> out_rows: array<f32>;        // (B, T, H, D)

@compute @workgroup_size(WG)
fn attention_bwd_dvec(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.y * nwg.x * WG + gid.x;  // (b * T + i) * H + h
  if (row >= p.B * p.T * p.H) { return; }
  let h = row % p.H;
  let bi = row / p.H;
  let b = bi / p.T;
  let i = bi % p.T;
  var s = 0.0;
  for (var d = 0u; d < D; d++) { s += dout_rows[row * D + d] * out_rows[row * D + d]; }
  dvec_out[(b * p.H + h) * p.T + i] = s;
}

// ---- bindings shared by dq and dkdv ----
@group(0) @binding(1) var<storage, read> q: array<f32>;      // (B, T, H, D)
@group(0) @binding(2) var<storage, read> k: array<f32>;      // (B, T, KV, D)
@group(0) @binding(3) var<storage, read> v: array<f32>;      // (B, T, KV, D)
@group(0) @binding(4) var<storage, read> dout: array<f32>;   // (B, T, H, D)
@group(0) @binding(5) var<storage, read> lse: array<f32>;    // (B, H, T)
@group(0) @binding(6) var<storage, read> dvec: array<f32>;   // (B, H, T)
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;  // (B, T, H, D)   dq entry
@group(0) @binding(7) var<storage, read_write> dk: array<f32>;  // (B, T, KV, D)  dkdv entry
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;  // (B, T, KV, D)  dkdv entry

var<workgroup> qs: array<f32, BR * DP>;   // (BR, D) queries of a tile
var<workgroup> dos: array<f32, BR * DP>;  // (BR, D) dout of a tile
var<workgroup> kvs: array<f32, BC * DP>;  // dq: (BC, D) values, then keys. dkdv: keys
var<workgroup> vs: array<f32, BC * DP>;   // dkdv: (BC, D) values
var<workgroup> ps: array<f32, BR * BC>;   // (BR, BC) dq: dp, then ds. dkdv: p
var<workgroup> dss: array<f32, BR * BC>;  // (BR, BC) dkdv: ds
var<workgroup> rowLse: array<f32, BR>;
var<workgroup> rowD: array<f32, BR>;

// Stage rows r0 .. r0+BR-1 of head h (q, dout, lse, Dvec); rows >= T are zero.
fn load_query_tile(t: u32, b: u32, h: u32, r0: u32) {
  let T = p.T;
  let H = p.H;
  for (var idx = t; idx < BR * D; idx += WG) {
    let r = idx / D;
    let d = idx % D;
    let i = r0 + r;
    var x = 0.0;
    var y = 0.0;
    if (i < T) {
      let o = ((b * T + i) * H + h) * D + d;
      x = q[o];
      y = dout[o];
    }
    qs[r * DP + d] = x;
    dos[r * DP + d] = y;
  }
  if (t < BR) {
    let i = r0 + t;
    var a = 0.0;
    var c = 0.0;
    if (i < T) {
      a = lse[(b * H + h) * T + i];
      c = dvec[(b * H + h) * T + i];
    }
    rowLse[t] = a;
    rowD[t] = c;
  }
}

@compute @workgroup_size(WG)
fn attention_bwd_dq(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let T = p.T;
  let H = p.H;
  let KV = p.KV;
  let q0 = wid.x * BR;
  let h = wid.y;
  let b = wid.z;
  let kvh = h / (H / KV);
  let scale = inverseSqrt(f32(D));
  load_query_tile(t, b, h, q0);

  var acc: array<f32, NACC>;
  let qEnd = min(q0 + BR, T);
  let nTiles = (qEnd + BC - 1u) / BC;
  for (var tile = 0u; tile < nTiles; tile++) {
    let k0 = tile * BC;
    workgroupBarrier();
    for (var idx = t; idx < BC * D; idx += WG) {
      let c = idx / D;
      let j = k0 + c;
      var x = 0.0;
      if (j < T) { x = v[((b * T + j) * KV + kvh) * D + idx % D]; }
      kvs[c * DP + idx % D] = x;
    }
    workgroupBarrier();
    for (var idx = t; idx < BR * BC; idx += WG) {
      let r = idx / BC;
      let c = idx % BC;
      var s = 0.0;
      for (var d = 0u; d < D; d++) { s += dos[r * DP + d] * kvs[c * DP + d]; }
      ps[idx] = s;  // dp
    }
    workgroupBarrier();
    for (var idx = t; idx < BC * D; idx += WG) {
      let c = idx / D;
      let j = k0 + c;
      var x = 0.0;
      if (j < T) { x = k[((b * T + j) * KV + kvh) * D + idx % D]; }
      kvs[c * DP + idx % D] = x;
    }
    workgroupBarrier();
    for (var idx = t; idx < BR * BC; idx += WG) {
      let r = idx / BC;
      let c = idx % BC;
      let i = q0 + r;
      let j = k0 + c;
      var ds = 0.0;
      if (j <= i && i < T) {
        var s = 0.0;
        for (var d = 0u; d < D; d++) { s += qs[r * DP + d] * kvs[c * DP + d]; }
        ds = exp(s * scale - rowLse[r]) * (ps[idx] - rowD[r]);
      }
      ps[idx] = ds;
    }
    workgroupBarrier();
    for (var a = 0u; a < NACC; a++) {
      let idx = t + a * WG;
      if (idx < BR * D) {
        let r = idx / D;
        let d = idx % D;
        var s = acc[a];
        for (var c = 0u; c < BC; c++) { s += ps[r * BC + c] * kvs[c * DP + d]; }
        acc[a] = s;
      }
    }
  }

  for (var a = 0u; a < NACC; a++) {
    let idx = t + a * WG;
    let r = idx / D;
    if (idx < BR * D && q0 + r < T) {
      let o = ((b * T + q0 + r) * H + h) * D + idx % D;
      var x = acc[a] * scale;
      if (ACCUMULATE) { x += dq[o]; }
      dq[o] = x;
    }
  }
}

@compute @workgroup_size(WG)
fn attention_bwd_dkdv(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) t: u32) {
  let T = p.T;
  let H = p.H;
  let KV = p.KV;
  let group = H / KV;
  let k0 = wid.x * BC;
  let kvh = wid.y;
  let b = wid.z;
  let scale = inverseSqrt(f32(D));

  for (var idx = t; idx < BC * D; idx += WG) {
    let c = idx / D;
    let d = idx % D;
    let j = k0 + c;
    var x = 0.0;
    var y = 0.0;
    if (j < T) {
      let o = ((b * T + j) * KV + kvh) * D + d;
      x = k[o];
      y = v[o];
    }
    kvs[c * DP + d] = x * scale;
    vs[c * DP + d] = y;
  }

  var accK: array<f32, NACC>;
  var accV: array<f32, NACC>;
  let firstTile = k0 / BR;  // queries i < k0 see none of these keys
  let nTiles = (T + BR - 1u) / BR;
  for (var hh = 0u; hh < group; hh++) {
    let h = kvh * group + hh;
    for (var tile = firstTile; tile < nTiles; tile++) {
      let i0 = tile * BR;
      workgroupBarrier();
      load_query_tile(t, b, h, i0);
      workgroupBarrier();
      for (var idx = t; idx < BR * BC; idx += WG) {
        let r = idx / BC;
        let c = idx % BC;
        let i = i0 + r;
        let j = k0 + c;
        var pr = 0.0;
        var ds = 0.0;
        if (j <= i && i < T) {
          var s = 0.0;
          var dp = 0.0;
          for (var d = 0u; d < D; d++) {
            s += qs[r * DP + d] * kvs[c * DP + d];
            dp += dos[r * DP + d] * vs[c * DP + d];
          }
          pr = exp(s - rowLse[r]);
          ds = pr * (dp - rowD[r]);
        }
        ps[idx] = pr;
        dss[idx] = ds;
      }
      workgroupBarrier();
      for (var a = 0u; a < NACC; a++) {
        let idx = t + a * WG;
        if (idx < BC * D) {
          let c = idx / D;
          let d = idx % D;
          var sk = accK[a];
          var sv = accV[a];
          for (var r = 0u; r < BR; r++) {
            sk += dss[r * BC + c] * qs[r * DP + d];
            sv += ps[r * BC + c] * dos[r * DP + d];
          }
          accK[a] = sk;
          accV[a] = sv;
        }
      }
    }
  }

  for (var a = 0u; a < NACC; a++) {
    let idx = t + a * WG;
    let c = idx / D;
    if (idx < BC * D && k0 + c < T) {
      let o = ((b * T + k0 + c) * KV + kvh) * D + idx % D;
      var x = accK[a] * scale;
      var y = accV[a];
      if (ACCUMULATE) {
        x += dk[o];
        y += dv[o];
      }
      dk[o] = x;
      dv[o] = y;
    }
  }
}
