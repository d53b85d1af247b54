/**
 * torchtune builds each model family and size with its own builder (torchtune.models.<family>.
 * lora_<family>_<size> for LoRA, <family>_<size> for full finetuning) and reads its own tokenizer
 * files. This picks them from the Hub id, or, for a model it does not know by name, builds a Llama
 * or Qwen decoder from config.json with the family's generic builder and the model's tokenizer.json.
 */
import type { ModelConfig } from '../../config/model-config';
import type { YamlScalar } from './yaml-writer';

export interface TorchtuneModel {
  /** `model._component_` of the LoRA recipes. */
  builder: string;
  /** `model._component_` of the full-finetuning recipes: the same model without LoRA (same arguments, less the lora_* ones). */
  fullBuilder: string;
  /** Architecture arguments of a generic builder (empty for a sized builder). */
  args: Record<string, YamlScalar>;
  /** `tokenizer._component_` and its file arguments (paths under the checkpoint folder). */
  tokenizer: { component: string; files: Record<string, string>; takesMaxSeqLen: boolean };
  /** `checkpointer.model_type`. */
  modelType: string;
  /** The output head shares the embedding: torchtune cannot put LoRA on it. */
  tiedEmbeddings: boolean;
  /** How the family's tokenizer formats a conversation, to compare with the studio's template. */
  chatFormat: 'llama3' | 'chatml' | 'plain' | 'model';
}

const TOKENIZERS = {
  llama3: { component: 'torchtune.models.llama3.llama3_tokenizer', files: { path: 'original/tokenizer.model' }, format: 'llama3' },
  llama2: { component: 'torchtune.models.llama2.llama2_tokenizer', files: { path: 'tokenizer.model' }, format: 'plain' },
  mistral: { component: 'torchtune.models.mistral.mistral_tokenizer', files: { path: 'tokenizer.model' }, format: 'plain' },
  gemma: { component: 'torchtune.models.gemma.gemma_tokenizer', files: { path: 'tokenizer.model' }, format: 'plain' },
  qwen2: { component: 'torchtune.models.qwen2.qwen2_tokenizer', files: { path: 'vocab.json', merges_file: 'merges.txt' }, format: 'chatml' },
  qwen2_5: { component: 'torchtune.models.qwen2_5.qwen2_5_tokenizer', files: { path: 'vocab.json', merges_file: 'merges.txt' }, format: 'chatml' },
  qwen3: { component: 'torchtune.models.qwen3.qwen3_tokenizer', files: { path: 'vocab.json', merges_file: 'merges.txt' }, format: 'chatml' },
} as const;

interface Known {
  pattern: RegExp;
  family: string;
  tokenizer: keyof typeof TOKENIZERS;
  modelType: string;
  /** The builder's size suffix from the match, e.g. "1b", "0_5b", "7b_instruct". */
  size: (m: RegExpExecArray) => string;
  tied: (m: RegExpExecArray) => boolean;
}

const b = (s: string) => `${s.replace('.', '_')}b`;
/** Sizes that have separate base and instruct builders. */
const baseOrInstruct = (sizes: string[], instruct: boolean, s: string) => (sizes.includes(s) ? `${b(s)}_${instruct ? 'instruct' : 'base'}` : b(s));

const KNOWN: readonly Known[] = [
  { pattern: /llama-?3\.2-(1|3)b/, family: 'llama3_2', tokenizer: 'llama3', modelType: 'LLAMA3_2', size: (m) => b(m[1]), tied: () => true },
  { pattern: /llama-?3\.1-(8|70|405)b/, family: 'llama3_1', tokenizer: 'llama3', modelType: 'LLAMA3', size: (m) => b(m[1]), tied: () => false },
  { pattern: /llama-?3-(8|70)b/, family: 'llama3', tokenizer: 'llama3', modelType: 'LLAMA3', size: (m) => b(m[1]), tied: () => false },
  { pattern: /llama-?2-(7|13|70)b/, family: 'llama2', tokenizer: 'llama2', modelType: 'LLAMA2', size: (m) => b(m[1]), tied: () => false },
  { pattern: /mistral-(7)b/, family: 'mistral', tokenizer: 'mistral', modelType: 'MISTRAL', size: (m) => b(m[1]), tied: () => false },
  {
    pattern: /qwen2\.5-(0\.5|1\.5|3|7|14|32|72)b(-instruct)?/, family: 'qwen2_5', tokenizer: 'qwen2_5', modelType: 'QWEN2',
    size: (m) => baseOrInstruct(['1.5', '7', '14', '32', '72'], !!m[2], m[1]), tied: (m) => ['0.5', '1.5', '3'].includes(m[1]),
  },
  { pattern: /qwen2-(0\.5|1\.5|7)b/, family: 'qwen2', tokenizer: 'qwen2', modelType: 'QWEN2', size: (m) => b(m[1]), tied: (m) => m[1] !== '7' },
  {
    pattern: /qwen3-(0\.6|1\.7|4|8|14|32)b(-base)?/, family: 'qwen3', tokenizer: 'qwen3', modelType: 'QWEN3',
    size: (m) => baseOrInstruct(['0.6', '1.7', '4', '8', '14'], !m[2], m[1]), tied: (m) => ['0.6', '1.7', '4'].includes(m[1]),
  },
  { pattern: /gemma-2-(2|9|27)b/, family: 'gemma2', tokenizer: 'gemma', modelType: 'GEMMA2', size: (m) => b(m[1]), tied: () => true },
  { pattern: /gemma-(2|7)b/, family: 'gemma', tokenizer: 'gemma', modelType: 'GEMMA', size: (m) => b(m[1]), tied: () => true },
];

function fromConfig(c: ModelConfig): TorchtuneModel | null {
  const common = {
    vocab_size: c.vocabSize, num_layers: c.numLayers, num_heads: c.numHeads, num_kv_heads: c.numKvHeads, embed_dim: c.hiddenSize,
    intermediate_dim: c.intermediateSize, max_seq_len: c.maxPositionEmbeddings, norm_eps: c.rmsNormEps, rope_base: c.ropeTheta,
  };
  const tokenizer = { component: 'torchtune.modules.transforms.tokenizers.HuggingFaceModelTokenizer', files: { tokenizer_json_path: 'tokenizer.json', tokenizer_config_json_path: 'tokenizer_config.json' }, takesMaxSeqLen: false };
  const base = { tokenizer, tiedEmbeddings: c.tieWordEmbeddings, chatFormat: 'model' as const };
  if ((c.modelType === 'llama' || c.modelType === 'mistral') && !c.ropeScaling && !c.tieWordEmbeddings && c.headDim * c.numHeads === c.hiddenSize) {
    return { ...base, builder: 'torchtune.models.llama3.lora_llama3', fullBuilder: 'torchtune.models.llama3.llama3', args: common, modelType: 'LLAMA3' };
  }
  if (c.modelType === 'qwen2') {
    return { ...base, builder: 'torchtune.models.qwen2.lora_qwen2', fullBuilder: 'torchtune.models.qwen2.qwen2', args: { ...common, head_dim: c.headDim, tie_word_embeddings: c.tieWordEmbeddings }, modelType: 'QWEN2' };
  }
  if (c.modelType === 'qwen3') {
    return {
      ...base, builder: 'torchtune.models.qwen3._component_builders.lora_qwen3', fullBuilder: 'torchtune.models.qwen3._component_builders.qwen3', modelType: 'QWEN3',
      args: { ...common, head_dim: c.headDim, tie_word_embeddings: c.tieWordEmbeddings, q_proj_bias: false, k_proj_bias: false, v_proj_bias: false, q_norm: true, k_norm: true },
    };
  }
  return null;
}

/** torchtune's builder for the base model, or null when neither its name nor its config.json fits one. */
export function torchtuneModel(baseModel: string, config?: ModelConfig): TorchtuneModel | null {
  const name = baseModel.toLowerCase().split(/[\\/]/).filter(Boolean).pop() ?? '';
  for (const k of KNOWN) {
    const m = k.pattern.exec(name);
    if (!m) continue;
    const tok = TOKENIZERS[k.tokenizer];
    return {
      builder: `torchtune.models.${k.family}.lora_${k.family}_${k.size(m)}`, fullBuilder: `torchtune.models.${k.family}.${k.family}_${k.size(m)}`, args: {}, modelType: k.modelType,
      tokenizer: { component: tok.component, files: { ...tok.files }, takesMaxSeqLen: true },
      tiedEmbeddings: config?.tieWordEmbeddings ?? k.tied(m), chatFormat: tok.format,
    };
  }
  return config ? fromConfig(config) : null;
}
