// The variants of attention scores (Gemma 2/3), shared by attention_forward.wgsl,
// attention_backward.wgsl and attention_decode.wgsl (the wrappers prepend this file and
// lib/tanh.wgsl). Each is an override constant whose default is Llama's attention, so every branch
// below folds away at pipeline creation and the default pipelines do no extra work. Needs
// `override D` from the kernel.

override SCALE: f32 = 0.0;    // multiplier of q.k; 0: 1/sqrt(D)
override WINDOW: u32 = 0u;    // sliding window: query i sees keys j with i - WINDOW < j <= i; 0: full causal
override SOFTCAP: f32 = 0.0;  // scaled scores s -> SOFTCAP tanh(s / SOFTCAP) before mask and softmax; 0: none

fn score_scale() -> f32 {
  if (SCALE > 0.0) { return SCALE; }
  return inverseSqrt(f32(D));
}

// The capped scores of scaled scores s (s itself without a cap).
fn cap_scores(s: vec4<f32>) -> vec4<f32> {
  if (SOFTCAP > 0.0) { return SOFTCAP * tanh_safe4(s / SOFTCAP); }
  return s;
}
fn cap_score(s: f32) -> f32 {
  if (SOFTCAP > 0.0) { return SOFTCAP * tanh_safe(s / SOFTCAP); }
  return s;
}

// d(capped)/ds from the capped scores c: 1 - (c / SOFTCAP)^2 (1 without a cap).
fn cap_grad(c: vec4<f32>) -> vec4<f32> {
  if (SOFTCAP > 0.0) {
    let t = c / SOFTCAP;
    return vec4(1.0) - t * t;
  }
  return vec4(1.0);
}

// Which of `keys` lie inside the window of query `row` (keys <= row is checked separately).
fn in_window(keys: vec4<u32>, row: u32) -> vec4<bool> {
  if (WINDOW > 0u) { return keys + vec4(WINDOW) > vec4(row); }
  return vec4(true);
}

// The first key query `row` sees: row + 1 - WINDOW, or 0.
fn first_key(row: u32) -> u32 {
  if (WINDOW > 0u && row + 1u > WINDOW) { return row + 1u - WINDOW; }
  return 0u;
}

// Whether any key of k0 .. kLast is inside the window of query `row` (always without a window).
fn reaches(kLast: u32, row: u32) -> bool {
  return WINDOW == 0u || kLast + WINDOW > row;
}
