// Decoding a frozen base weight W from its packed words, shared by matmul_weight.wgsl (training,
// prefill) and matvec_weight.wgsl (one token at a time); the wrapper prepends this file.
//
// Packed layout (src/reference/quant/packed.ts): W's row-major elements e in u32 words:
//   f32 word e | f16/bf16 word e/2, element 2j in the low half | int8 byte e%4 of word e/4
//   nf4 byte (e/2)%4 of word e/8, even e in the high nibble; int8 and nf4 have an absmax per 64 elements.
// NF4 with DOUBLE_QUANT: absmax[blk] = dq[qabsmax[blk]] * dq[257 + blk/256] + dq[256], where qabsmax
// holds bytes packed 4 per word in `scales` and dq = [code (256), offset, absmax2 ...].
//
// The including shader declares the bindings `w` (packed W), `scales` (absmax f32 bits, or qabsmax
// bytes) and `dq` (double quant: code, offset, absmax2).

override FORMAT: u32 = 0u;        // 0 f32, 1 f16, 2 bf16, 3 int8, 4 nf4
override DOUBLE_QUANT: bool = false;

const NF4 = array<f32, 16>(
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
  -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0);

fn absmax(blk: u32) -> f32 {
  if (DOUBLE_QUANT) {
    let q = (scales[blk / 4u] >> (8u * (blk % 4u))) & 0xffu;
    return dq[q] * dq[257u + blk / 256u] + dq[256u];
  }
  return bitcast<f32>(scales[blk]);
}

fn bf16_lo(x: u32) -> f32 { return bitcast<f32>(x << 16u); }
fn bf16_hi(x: u32) -> f32 { return bitcast<f32>(x & 0xffff0000u); }
fn i8_at(x: u32, byte: u32) -> f32 { return f32(extractBits(bitcast<i32>(x), 8u * byte, 8u)); }

// Element e of W.
fn w_elem(e: u32) -> f32 {
  switch FORMAT {
    case 1u: { return unpack2x16float(w[e / 2u])[e % 2u]; }
    case 2u: { return bitcast<f32>(((w[e / 2u] >> (16u * (e % 2u))) & 0xffffu) << 16u); }
    case 3u: { return i8_at(w[e / 4u], e % 4u) * (absmax(e / 64u) / 127.0); }
    case 4u: {
      let byte = (w[e / 8u] >> (8u * ((e / 2u) % 4u))) & 0xffu;
      return NF4[select(byte & 15u, byte >> 4u, e % 2u == 0u)] * absmax(e / 64u);
    }
    default: { return bitcast<f32>(w[e]); }
  }
}

// Elements e .. e+3 of W, e a multiple of 4 (one absmax block: 64 is a multiple of 4).
fn w_quad_aligned(e: u32) -> vec4<f32> {
  switch FORMAT {
    case 1u: { return vec4(unpack2x16float(w[e / 2u]), unpack2x16float(w[e / 2u + 1u])); }
    case 2u: {
      let x = w[e / 2u];
      let y = w[e / 2u + 1u];
      return vec4(bf16_lo(x), bf16_hi(x), bf16_lo(y), bf16_hi(y));
    }
    case 3u: {
      let x = w[e / 4u];
      return vec4(i8_at(x, 0u), i8_at(x, 1u), i8_at(x, 2u), i8_at(x, 3u)) * (absmax(e / 64u) / 127.0);
    }
    case 4u: {
      let half = (w[e / 8u] >> (16u * ((e / 4u) % 2u))) & 0xffffu;  // 2 bytes = 4 codes
      let s = absmax(e / 64u);
      return vec4(NF4[(half >> 4u) & 15u] * s, NF4[half & 15u] * s, NF4[half >> 12u] * s, NF4[(half >> 8u) & 15u] * s);
    }
    default: { return vec4(bitcast<f32>(w[e]), bitcast<f32>(w[e + 1u]), bitcast<f32>(w[e + 2u]), bitcast<f32>(w[e + 3u])); }
  }
}
