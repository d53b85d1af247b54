import type { RopeScaling, RopeSpec } from './rope';
import { z } from 'zod';
import type { ArchitectureFeatures } from './architecture-features';
import { checkArchitectureFeatures, checkConfigLimits, isGemma, MAX_BASE_PARAMS, mlpActivationOf, parseRopeScaling, resolveArchitecture, type ArchitectureInfo } from './architectures';
import { f32ToBf16Bits, f32ToF16Bits, bf16BitsToF32, f16BitsToF32 } from '../core/half';
import { ModelConfigError } from './model-config-error';

/**
 * The subset of a Hugging Face `config.json` that the decoder needs, normalised to camelCase.
 * Parsing is strict about what the math needs and lenient about everything else. The fields of
 * ArchitectureFeatures (./architecture-features.ts) are absent for Llama's behaviour.
 */
export interface ModelConfig extends ArchitectureFeatures {
  /** `model_type` as written (llama, mistral, qwen2, qwen3, gemma3_text, gemma2). */
  modelType: string;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** hidden_size / num_heads unless `head_dim` is given. */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** Qwen2 puts biases on q/k/v. */
  attentionBias: boolean;
  bosTokenId?: number;
  eosTokenId?: number | number[];
  /** `architectures[0]`, e.g. "LlamaForCausalLM" (set by parseModelConfig). */
  architecture?: string;
  /** `rope_scaling` of type llama3 or linear; absent for plain RoPE. */
  ropeScaling?: RopeScaling | null;
  /** The attention window of sliding layers (Mistral v0.1, Qwen2/3 with use_sliding_window, Gemma's local layers; see layerWindow). */
  slidingWindow?: number | null;
  /** `torch_dtype` (or `dtype`) as written: the checkpoint's intended precision. */
  torchDtype?: string;
}

/** The RoPE of a model (theta and scaling), as ropeTables and uploadRopeTables take it. */
export function ropeSpecOf(c: Pick<ModelConfig, 'ropeTheta' | 'ropeScaling'>): RopeSpec {
  return { theta: c.ropeTheta, scaling: c.ropeScaling ?? null };
}

const positiveInt = z.number().int().positive();
/** Sizes checked first, so a message names the field and what it must be (zod's wording is generic). */
const POSITIVE_INT_FIELDS = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'max_position_embeddings', 'sliding_window'] as const;

const hfConfigSchema = z
  .object({
    model_type: z.string().default('llama'),
    vocab_size: positiveInt,
    hidden_size: positiveInt,
    intermediate_size: positiveInt,
    num_hidden_layers: positiveInt,
    num_attention_heads: positiveInt,
    num_key_value_heads: positiveInt.nullable().optional(),
    head_dim: positiveInt.nullable().optional(),
    rms_norm_eps: z.number().positive().default(1e-6),
    rope_theta: z.number().positive().default(10000),
    max_position_embeddings: positiveInt.default(2048),
    tie_word_embeddings: z.boolean().default(false),
    attention_bias: z.boolean().optional(),
    sliding_window: positiveInt.nullable().optional(),
    use_sliding_window: z.boolean().optional(),
    torch_dtype: z.string().nullable().optional(),
    dtype: z.string().nullable().optional(),
    bos_token_id: z.number().int().nullable().optional(),
    eos_token_id: z.union([z.number().int(), z.array(z.number().int())]).nullable().optional(),
  })
  .passthrough();

/**
 * Parse a Hugging Face `config.json` object; throws ModelConfigError naming the bad field, the
 * unsupported architecture or feature, or the absurd size (before anything is sized from it).
 */
export function parseModelConfig(json: unknown): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ModelConfigError('config.json: must be a JSON object');
  const raw = json as Record<string, unknown>;
  const arch = resolveArchitecture(raw);
  checkConfigLimits(raw);
  for (const field of POSITIVE_INT_FIELDS) {
    const v = raw[field];
    const optional = field === 'num_key_value_heads' || field === 'head_dim' || field === 'max_position_embeddings' || field === 'sliding_window';
    if ((v === undefined || v === null) && optional) continue;
    if (v === undefined) throw new ModelConfigError(`config.json: field "${field}" is missing`);
    if (!(typeof v === 'number' && Number.isInteger(v) && v > 0)) throw new ModelConfigError(`config.json: field "${field}" must be a positive integer, got ${JSON.stringify(v)}`);
  }
  const parsed = hfConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ModelConfigError(`config.json: field "${issue.path.join('.')}" ${issue.message}`);
  }
  checkArchitectureFeatures(raw, arch);
  const c = parsed.data;
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  if (c.num_attention_heads % numKvHeads !== 0) {
    throw new ModelConfigError(
      `config.json: num_attention_heads (${c.num_attention_heads}) must be a multiple of num_key_value_heads (${numKvHeads})`,
    );
  }
  // transformers' defaults where a config omits head_dim: Qwen3 128, Gemma 256, else hidden / heads.
  const headDim = c.head_dim ?? (arch.modelType === 'qwen3' ? 128 : isGemma(arch.modelType) ? 256 : c.hidden_size / c.num_attention_heads);
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new ModelConfigError(`config.json: head dimension ${headDim} must be an even integer (hidden_size / num_attention_heads, or head_dim)`);
  }
  // transformers v5 moves rope_theta and the scaling into `rope_parameters`.
  const ropeParams = isObject(raw.rope_parameters) ? raw.rope_parameters : null;
  const ropeTheta = typeof ropeParams?.rope_theta === 'number' ? ropeParams.rope_theta : c.rope_theta;
  if (!(ropeTheta > 0)) throw new ModelConfigError(`config.json: rope_theta must be a positive number, got ${JSON.stringify(ropeTheta)}`);
  const ropeScaling = parseRopeScaling(raw.rope_scaling ?? ropeParams ?? null);
  // Mistral applies its window whenever it is set; Qwen2/3 only with use_sliding_window; Gemma on its local layers.
  const gemma = isGemma(arch.modelType);
  const slidingWindow = arch.modelType === 'mistral' || gemma || ((arch.modelType === 'qwen2' || arch.modelType === 'qwen3') && c.use_sliding_window)
    ? c.sliding_window ?? (gemma ? 4096 : null) : null;
  const torchDtype = c.torch_dtype ?? c.dtype ?? undefined;
  const config: ModelConfig = {
    modelType: arch.modelType,
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads,
    headDim,
    rmsNormEps: c.rms_norm_eps,
    ropeTheta,
    maxPositionEmbeddings: c.max_position_embeddings,
    // Gemma's configs tie by default (transformers' default for them); the others do not.
    tieWordEmbeddings: typeof raw.tie_word_embeddings === 'boolean' ? raw.tie_word_embeddings : gemma,
    // Qwen2's q/k/v always have biases (its attention hard-codes bias=True); Llama's attention_bias
    // would add one on o_proj too and is refused in checkArchitectureFeatures.
    attentionBias: arch.modelType === 'qwen2',
    bosTokenId: c.bos_token_id ?? undefined,
    eosTokenId: c.eos_token_id ?? undefined,
    architecture: arch.architecture,
    ropeScaling,
    slidingWindow,
    torchDtype,
    ...architectureFeatures(raw, arch, c.hidden_size, c.num_hidden_layers, torchDtype),
  };
  const params = roughBaseParams(config);
  if (params > MAX_BASE_PARAMS) {
    throw new ModelConfigError(`config.json: these sizes describe a model of ${params.toExponential(2)} parameters, beyond any real model; the file is corrupt or not a model config`);
  }
  return config;
}

/** The fields of ArchitectureFeatures a config implies (none for the Llama-like families). */
function architectureFeatures(raw: Record<string, unknown>, arch: ArchitectureInfo, hidden: number, numLayers: number, torchDtype: string | undefined): ArchitectureFeatures {
  const f: ArchitectureFeatures = {};
  if (arch.modelType === 'qwen3' || arch.modelType === 'gemma3_text') f.qkNorm = true;
  const act = mlpActivationOf(raw, arch);
  if (act === 'gelu_tanh') f.mlpActivation = 'gelu_tanh';
  if (!isGemma(arch.modelType)) return f;
  f.normPlusOne = true;
  f.sandwichNorms = true;
  f.embedScale = roundToDtype(Math.sqrt(hidden), torchDtype);
  f.queryPreAttnScalar = positiveNumber(raw, 'query_pre_attn_scalar') ?? 256;
  f.layerTypes = gemmaLayerTypes(raw, arch, numLayers);
  if (arch.modelType === 'gemma3_text') f.localRopeTheta = positiveNumber(raw, 'rope_local_base_freq') ?? 10000;
  f.attnLogitSoftcap = positiveNumber(raw, 'attn_logit_softcapping') ?? null;
  f.finalLogitSoftcap = positiveNumber(raw, 'final_logit_softcapping') ?? null;
  return f;
}

/** Which layers are local: `layer_types`, else every `sliding_window_pattern`-th layer global (Gemma 3) or every other (Gemma 2). */
function gemmaLayerTypes(raw: Record<string, unknown>, arch: ArchitectureInfo, numLayers: number): ('full' | 'sliding')[] {
  if (Array.isArray(raw.layer_types)) {
    if (raw.layer_types.length !== numLayers) {
      throw new ModelConfigError(`config.json: layer_types has ${raw.layer_types.length} entries for ${numLayers} layers`);
    }
    return raw.layer_types.map((t, i) => {
      if (t === 'sliding_attention') return 'sliding';
      if (t === 'full_attention') return 'full';
      throw new ModelConfigError(`config.json: layer_types[${i}] "${String(t)}" is not supported (sliding_attention or full_attention)`);
    });
  }
  const pattern = arch.modelType === 'gemma2' ? 2 : positiveNumber(raw, 'sliding_window_pattern') ?? 6;
  return Array.from({ length: numLayers }, (_, i) => ((i + 1) % pattern ? 'sliding' : 'full'));
}

function positiveNumber(raw: Record<string, unknown>, key: string): number | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ModelConfigError(`config.json: ${key} must be a positive number, got ${JSON.stringify(v)}`);
  return v;
}

/** x rounded to a checkpoint dtype's precision (bfloat16 or float16), as torch.tensor(x, dtype) would. */
export function roundToDtype(x: number, dtype: string | undefined): number {
  if (dtype === 'bfloat16') return bf16BitsToF32(f32ToBf16Bits(x));
  if (dtype === 'float16') return f16BitsToF32(f32ToF16Bits(x));
  return Math.fround(x);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Embeddings + head + linears, in float64: only to refuse absurd configs (param-count.ts has the exact count). */
function roughBaseParams(c: ModelConfig): number {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const perLayer = c.hiddenSize * (2 * q + 2 * kv) + 3 * c.hiddenSize * c.intermediateSize;
  return c.vocabSize * c.hiddenSize * (c.tieWordEmbeddings ? 1 : 2) + c.numLayers * perLayer;
}
