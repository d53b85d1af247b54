// The textbook matmul the benchmark compares against: one invocation per element of C, a plain
// loop over K with scalar loads, no workgroup memory, no register tiling.
//   C (M, N) = op(A) op(B);  A (M, K) or (K, M) when TRANS_A;  B (K, N) or (N, K) when TRANS_B.

override TRANS_A: bool = false;
override TRANS_B: bool = false;

struct Params { M: u32, N: u32, K: u32, _pad: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let n = g.x;
  let m = g.y;
  if (m >= P.M || n >= P.N) { return; }
  var s = 0.0;
  for (var k = 0u; k < P.K; k++) {
    let x = select(a[m * P.K + k], a[k * P.M + m], TRANS_A);
    let y = select(b[k * P.N + n], b[n * P.K + k], TRANS_B);
    s += x * y;
  }
  c[m * P.N + n] = s;
}
