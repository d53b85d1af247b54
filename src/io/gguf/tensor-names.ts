/**
 * Hugging Face tensor names -> the names llama.cpp gives them (gguf-py's tensor map), and the two
 * value changes llama.cpp's converter (convert_hf_to_gguf.py) makes on the way:
 *
 * - `llama` architecture (Llama, Mistral): the rows of q_proj and k_proj are permuted from the
 *   "rotate half" RoPE layout to llama.cpp's interleaved pairs. Per head of D = head_dim rows,
 *   reshape (2, D/2) -> transpose -> (D/2, 2):  new row h*D + 2i + j  <-  old row h*D + j*D/2 + i.
 *   The heads are num_attention_heads for q_proj, num_key_value_heads for k_proj. A LoRA's
 *   lora_B (out, r) gets the same row permutation (B A then equals the permuted delta).
 * - Gemma 2/3: checkpoints store RMSNorm weights as w - 1 (the model scales by 1 + w); llama.cpp
 *   scales by the stored weight, so the converter writes w + 1 for every `*norm.weight`
 *   (layer norms, q/k norms, the final norm). Computed here in f32.
 */
import type { ModelConfig } from '../../config/model-config';

export type GgufArch = 'llama' | 'qwen2' | 'qwen3' | 'gemma2' | 'gemma3';

const LAYER = /^model\.layers\.(\d+)\.(.+)$/;

const LAYER_NAMES: Record<string, string> = {
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output',
  'self_attn.q_norm': 'attn_q_norm',
  'self_attn.k_norm': 'attn_k_norm',
  'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up',
  'mlp.down_proj': 'ffn_down',
  input_layernorm: 'attn_norm',
  pre_feedforward_layernorm: 'ffn_norm',
  post_feedforward_layernorm: 'post_ffw_norm',
};

const isGemmaArch = (a: GgufArch) => a === 'gemma2' || a === 'gemma3';

/**
 * The GGUF name of a Hugging Face tensor (`model.layers.3.self_attn.q_proj.weight` ->
 * `blk.3.attn_q.weight`), or null for a tensor llama.cpp does not use (RoPE's saved inv_freq).
 * Throws on a tensor it does not know, so nothing is silently dropped.
 */
export function ggufTensorName(hfName: string, arch: GgufArch): string | null {
  if (/(^|\.)rotary_emb\.inv_freq$/.test(hfName)) return null;
  if (hfName === 'model.embed_tokens.weight') return 'token_embd.weight';
  if (hfName === 'model.norm.weight') return 'output_norm.weight';
  if (hfName === 'lm_head.weight') return 'output.weight';
  const m = LAYER.exec(hfName);
  const suffix = m && /^(.+)\.(weight|bias)$/.exec(m[2]);
  if (m && suffix) {
    const [, module, kind] = suffix;
    // Llama's post_attention_layernorm is the norm before the MLP; Gemma's follows attention.
    const name = module === 'post_attention_layernorm' ? (isGemmaArch(arch) ? 'post_attention_norm' : 'ffn_norm') : LAYER_NAMES[module];
    if (name) return `blk.${m[1]}.${name}.${kind}`;
  }
  throw new RangeError(`gguf: tensor "${hfName}" has no llama.cpp name for architecture ${arch}`);
}

/** The GGUF base-weight name of a LoRA module path (`model.layers.0.self_attn.q_proj` -> `blk.0.attn_q.weight`). */
export function ggufModuleWeight(modulePath: string, arch: GgufArch): string {
  return ggufTensorName(`${modulePath}.weight`, arch)!;
}

/** How many heads a q/k weight's rows are permuted over for the `llama` architecture, or null for none. */
export function qkPermuteHeads(hfName: string, c: ModelConfig, arch: GgufArch): number | null {
  if (arch !== 'llama') return null;
  if (/\.self_attn\.q_proj\.(weight|bias)$/.test(hfName)) return c.numHeads;
  if (/\.self_attn\.k_proj\.(weight|bias)$/.test(hfName)) return c.numKvHeads;
  return null;
}

/** Whether the converter adds 1 to this tensor (Gemma's norm weights). */
export function addsOneToNorm(hfName: string, arch: GgufArch): boolean {
  return isGemmaArch(arch) && hfName.endsWith('norm.weight');
}

/**
 * Rows of x (rows, cols) reordered from rotate-half to interleaved pairs, per head of rows/heads
 * rows (see the header). `inverse` undoes it.
 */
export function permuteQkRows(x: Float32Array, rows: number, cols: number, heads: number, inverse = false): Float32Array {
  if (x.length !== rows * cols) throw new RangeError(`permuteQkRows: ${x.length} values do not make [${rows}, ${cols}]`);
  const D = rows / heads;
  if (!Number.isInteger(D) || D % 2 !== 0) throw new RangeError(`permuteQkRows: ${rows} rows do not split into ${heads} heads of an even size`);
  const half = D / 2;
  const out = new Float32Array(x.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const interleaved = h * D + 2 * i + j;
        const rotateHalf = h * D + j * half + i;
        const [to, from] = inverse ? [rotateHalf, interleaved] : [interleaved, rotateHalf];
        out.set(x.subarray(from * cols, (from + 1) * cols), to * cols);
      }
    }
  }
  return out;
}

/**
 * A Hugging Face tensor's f32 values as the GGUF holds them (before encoding): q/k permuted for
 * `llama`, Gemma norms plus one. `shape` is the Hugging Face shape ([out, in] or [n]).
 */
export function toGgufValues(hfName: string, x: Float32Array, shape: readonly number[], c: ModelConfig, arch: GgufArch): Float32Array {
  const heads = qkPermuteHeads(hfName, c, arch);
  if (heads !== null) return permuteQkRows(x, shape[0], shape.length > 1 ? shape[1] : 1, heads);
  if (addsOneToNorm(hfName, arch)) return x.map((v) => Math.fround(v + 1));
  return x;
}

/** The inverse of toGgufValues: GGUF values back to the Hugging Face tensor's (for checks). */
export function fromGgufValues(hfName: string, x: Float32Array, shape: readonly number[], c: ModelConfig, arch: GgufArch): Float32Array {
  const heads = qkPermuteHeads(hfName, c, arch);
  if (heads !== null) return permuteQkRows(x, shape[0], shape.length > 1 ? shape[1] : 1, heads, true);
  if (addsOneToNorm(hfName, arch)) return x.map((v) => Math.fround(v - 1));
  return x;
}
