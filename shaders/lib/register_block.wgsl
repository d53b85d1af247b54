// The 8 x 8 register block of one invocation, shared by matmul.wgsl and matmul_weight.wgsl (the
// wrappers prepend this file): 16 vec4 accumulators, acc[2i + j/4][j%4] = C[row i][column j].

var<private> acc: array<vec4<f32>, 16>;

// One k of the block: rows from a0 (the first 4) and a1 (the other 4), columns from b0 and b1.
fn fma_block(a0: vec4<f32>, a1: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>) {
  acc[0] += a0.x * b0;  acc[1] += a0.x * b1;
  acc[2] += a0.y * b0;  acc[3] += a0.y * b1;
  acc[4] += a0.z * b0;  acc[5] += a0.z * b1;
  acc[6] += a0.w * b0;  acc[7] += a0.w * b1;
  acc[8] += a1.x * b0;  acc[9] += a1.x * b1;
  acc[10] += a1.y * b0; acc[11] += a1.y * b1;
  acc[12] += a1.z * b0; acc[13] += a1.z * b1;
  acc[14] += a1.w * b0; acc[15] += a1.w * b1;
}
