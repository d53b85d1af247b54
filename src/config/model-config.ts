import type { RopeScaling, RopeSpec } from './rope';
import { z } from 'zod';
import { checkArchitectureFeatures, checkConfigLimits, MAX_BASE_PARAMS, parseRopeScaling, resolveArchitecture } from './architectures';
import { ModelConfigError } from './model-config-error';

/**
 * The subset of a Hugging Face `config.json` that a Llama-family decoder needs, normalised to
 * camelCase. Parsing is strict about what the math needs and lenient about everything else.
 */
export interface ModelConfig {
  /** `model_type` as written (llama, mistral, qwen2, ...). */
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
  /** The attention window when sliding-window attention is active (Mistral v0.1, Qwen2 with use_sliding_window). */
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
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new ModelConfigError(`config.json: head dimension ${headDim} must be an even integer (hidden_size / num_attention_heads, or head_dim)`);
  }
  // transformers v5 moves rope_theta and the scaling into `rope_parameters`.
  const ropeParams = isObject(raw.rope_parameters) ? raw.rope_parameters : null;
  const ropeTheta = typeof ropeParams?.rope_theta === 'number' ? ropeParams.rope_theta : c.rope_theta;
  if (!(ropeTheta > 0)) throw new ModelConfigError(`config.json: rope_theta must be a positive number, got ${JSON.stringify(ropeTheta)}`);
  const ropeScaling = parseRopeScaling(raw.rope_scaling ?? ropeParams ?? null);
  // Mistral applies its window whenever it is set; Qwen2 only with use_sliding_window.
  const slidingWindow = arch.modelType === 'mistral' || (arch.modelType === 'qwen2' && c.use_sliding_window) ? c.sliding_window ?? null : null;
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
    tieWordEmbeddings: c.tie_word_embeddings,
    // Qwen2's q/k/v always have biases (its attention hard-codes bias=True); Llama's attention_bias
    // would add one on o_proj too and is refused in checkArchitectureFeatures.
    attentionBias: arch.modelType === 'qwen2',
    bosTokenId: c.bos_token_id ?? undefined,
    eosTokenId: c.eos_token_id ?? undefined,
    architecture: arch.architecture,
    ropeScaling,
    slidingWindow,
    torchDtype: c.torch_dtype ?? c.dtype ?? undefined,
  };
  const params = roughBaseParams(config);
  if (params > MAX_BASE_PARAMS) {
    throw new ModelConfigError(`config.json: these sizes describe a model of ${params.toExponential(2)} parameters, beyond any real model; the file is corrupt or not a model config`);
  }
  return config;
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
