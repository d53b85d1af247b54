/** What `inspect` prints: a model's architecture, sizes, parameters, dtypes and tokenizer, from headers only. */
import { SUPPORTED_ARCHITECTURES } from '../../config/architectures';
import { countBaseParams } from '../../config/param-count';
import type { ModelSource } from './model';
import { modelTokenizer, summarizeTokenizer, type TokenizerSummary, checkTokenizerFits } from './tokenizer-files';

export interface ModelSummary {
  name: string;
  source: string;
  architecture: string;
  model_type: string;
  known_as: string;
  sizes: {
    vocab_size: number; hidden_size: number; intermediate_size: number; num_hidden_layers: number;
    num_attention_heads: number; num_key_value_heads: number; head_dim: number; max_position_embeddings: number;
  };
  rope: { theta: number; scaling: unknown };
  tie_word_embeddings: boolean;
  attention_bias: boolean;
  sliding_window: number | null;
  torch_dtype: string | null;
  /** Sum of the element counts of every tensor in the checkpoint. */
  parameters: number;
  /** What config.json implies (src/config/param-count.ts); equals `parameters` unless the checkpoint carries extras. */
  parameters_from_config: number;
  tensors: number;
  dtypes: Record<string, { tensors: number; parameters: number }>;
  weight_files: { file: string; bytes: number }[];
  weight_bytes: number;
  tokenizer: TokenizerSummary;
  warnings: string[];
}

export async function summarizeModel(src: ModelSource): Promise<ModelSummary> {
  const c = src.config;
  const index = await src.tensorIndex();
  const files = await src.tokenizerFiles();
  const tokenizer = await modelTokenizer(src.files, files);
  const tok = summarizeTokenizer(files, tokenizer);
  const dtypes: ModelSummary['dtypes'] = {};
  const weightFiles = new Map<string, number>();
  let parameters = 0;
  for (const t of index.values()) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    parameters += n;
    const d = (dtypes[t.dtype] ??= { tensors: 0, parameters: 0 });
    d.tensors++;
    d.parameters += n;
    weightFiles.set(t.file, (weightFiles.get(t.file) ?? 0) + t.bytes);
  }
  checkTokenizerFits(src.files, tokenizer, c.vocabSize);
  const warnings: string[] = [];
  const eos = c.eosTokenId === undefined ? [] : [c.eosTokenId].flat();
  if (eos.length > 0 && !eos.includes(tok.special_tokens.eos!.id)) {
    warnings.push(`config.json's eos_token_id ${JSON.stringify(c.eosTokenId)} differs from the tokenizer's EOS ${tok.special_tokens.eos!.id} ("${tok.special_tokens.eos!.content}"); training appends the tokenizer's`);
  }
  const arch = SUPPORTED_ARCHITECTURES.find((a) => a.architecture === c.architecture);
  return {
    name: src.name,
    source: src.location,
    architecture: c.architecture ?? 'LlamaForCausalLM',
    model_type: c.modelType,
    known_as: arch?.knownAs ?? '',
    sizes: {
      vocab_size: c.vocabSize, hidden_size: c.hiddenSize, intermediate_size: c.intermediateSize, num_hidden_layers: c.numLayers,
      num_attention_heads: c.numHeads, num_key_value_heads: c.numKvHeads, head_dim: c.headDim, max_position_embeddings: c.maxPositionEmbeddings,
    },
    rope: { theta: c.ropeTheta, scaling: c.ropeScaling ?? null },
    tie_word_embeddings: c.tieWordEmbeddings,
    attention_bias: c.attentionBias,
    sliding_window: c.slidingWindow ?? null,
    torch_dtype: c.torchDtype ?? null,
    parameters,
    parameters_from_config: countBaseParams(c),
    tensors: index.size,
    dtypes,
    weight_files: [...weightFiles].map(([file, bytes]) => ({ file, bytes })),
    weight_bytes: [...weightFiles.values()].reduce((a, b) => a + b, 0),
    tokenizer: tok,
    warnings,
  };
}
