/**
 * The `tokenizer.*` metadata of a GGUF from a model's tokenizer.json and tokenizer_config.json:
 *
 * - byte-level BPE (Llama 3, Qwen2/3, SmolLM, the demo): tokenizer.ggml.model "gpt2", tokens,
 *   token_type, merges ("left right"), and tokenizer.ggml.pre, the name of llama.cpp's
 *   pre-tokenizer (./pre-tokenizers.ts);
 * - SentencePiece-style (Gemma, Llama 2): tokenizer.ggml.model "llama", tokens, scores,
 *   token_type, add_space_prefix (./tokenizer-spm.ts);
 * - both: bos / eos / unk / padding ids, add_bos_token / add_eos_token, and the chat template.
 * The special tokens are the studio's own (ModelTokenizer: BOS, EOS, a pad that is never EOS).
 */
import type { ModelConfig } from '../../config/model-config';
import type { ModelTokenizer } from '../../data/tokenizer';
import { GgufExportError } from './errors';
import { kv, type GgufKv } from './metadata';
import { detectPreTokenizer } from './pre-tokenizers';
import { addsSpacePrefix, isSentencePieceStyle, spmVocab } from './tokenizer-spm';
import { mergeStrings, vocabLayout } from './tokenizer-vocab';

type Json = Record<string, unknown>;

export interface TokenizerInputs {
  /** Parsed tokenizer.json. */
  tokenizerJson: Json;
  /** Parsed tokenizer_config.json (null when the model has none). */
  tokenizerConfig: Json | null;
  /** The studio's tokenizer built from the same files (special ids, chat template). */
  tokenizer: Pick<ModelTokenizer, 'bos' | 'eos' | 'unk' | 'pad' | 'addsBos' | 'chatTemplate'>;
}

export interface TokenizerMetadata {
  metadata: GgufKv[];
  /** "gpt2" (byte-level BPE) or "llama" (SentencePiece-style). */
  model: 'gpt2' | 'llama';
  warnings: string[];
}

export function tokenizerMetadata(t: TokenizerInputs, c: Pick<ModelConfig, 'vocabSize' | 'modelType' | 'bosTokenId'>): TokenizerMetadata {
  const tj = t.tokenizerJson;
  const model = tj.model as Json | undefined;
  if (!model || typeof model !== 'object') throw new GgufExportError('gguf: tokenizer.json has no "model"');
  const warnings: string[] = [];
  const m: GgufKv[] = [];
  let kind: 'gpt2' | 'llama';
  if (isSentencePieceStyle(tj)) {
    kind = 'llama';
    const v = spmVocab(tj, c.vocabSize);
    m.push(
      kv.str('tokenizer.ggml.model', 'llama'),
      kv.strings('tokenizer.ggml.tokens', v.tokens),
      kv.f32s('tokenizer.ggml.scores', v.scores),
      kv.i32s('tokenizer.ggml.token_type', v.types),
      kv.bool('tokenizer.ggml.add_space_prefix', addsSpacePrefix(tj)),
    );
  } else if (model.type === 'BPE') {
    kind = 'gpt2';
    const pre = detectPreTokenizer(tj, c.modelType);
    if (pre.warning) warnings.push(pre.warning);
    const v = vocabLayout(tj, c.vocabSize);
    m.push(
      kv.str('tokenizer.ggml.model', 'gpt2'),
      kv.str('tokenizer.ggml.pre', pre.name),
      kv.strings('tokenizer.ggml.tokens', v.tokens),
      kv.i32s('tokenizer.ggml.token_type', v.types),
      kv.strings('tokenizer.ggml.merges', mergeStrings(tj)),
    );
  } else {
    throw new GgufExportError(`gguf: tokenizer.json model type "${String(model.type)}" is not supported (byte-level BPE, or SentencePiece-style BPE/Unigram)`);
  }

  const tok = t.tokenizer;
  const fits = (what: string, id: number | null | undefined): id is number => {
    if (id === null || id === undefined) return false;
    if (id >= c.vocabSize) throw new GgufExportError(`gguf: the ${what} token id ${id} is past the model's vocab_size ${c.vocabSize}`);
    return true;
  };
  // Models without a BOS token (Qwen) still name one in config.json, as the converter reads it.
  const bos = tok.bos ?? c.bosTokenId ?? null;
  if (fits('BOS', bos)) m.push(kv.u32('tokenizer.ggml.bos_token_id', bos));
  if (fits('EOS', tok.eos)) m.push(kv.u32('tokenizer.ggml.eos_token_id', tok.eos));
  if (fits('unknown', tok.unk)) m.push(kv.u32('tokenizer.ggml.unknown_token_id', tok.unk));
  if (fits('padding', tok.pad)) m.push(kv.u32('tokenizer.ggml.padding_token_id', tok.pad));
  m.push(kv.bool('tokenizer.ggml.add_bos_token', tok.addsBos));
  m.push(kv.bool('tokenizer.ggml.add_eos_token', t.tokenizerConfig?.add_eos_token === true));
  if (tok.chatTemplate) m.push(kv.str('tokenizer.chat_template', tok.chatTemplate));
  return { metadata: m, model: kind, warnings };
}
