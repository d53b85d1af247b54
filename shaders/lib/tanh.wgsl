// tanh for the GeGLU activation and tanh soft-capping (attention scores, final logits). WGSL's
// tanh may be evaluated as a ratio of exponentials that overflows to inf / inf = NaN for large |x|;
// tanh(10) rounds to 1 in f32, so clamping the argument there changes no result and keeps it finite.

fn tanh_safe(x: f32) -> f32 {
  return tanh(clamp(x, -10.0, 10.0));
}

fn tanh_safe4(x: vec4<f32>) -> vec4<f32> {
  return tanh(clamp(x, vec4(-10.0), vec4(10.0)));
}
