/**
 * SentencePiece-style vocabularies (`tokenizer.ggml.model = llama`: Gemma, Llama 2, Mistral v0.1)
 * as llama.cpp's SPM tokenizer reads them: a score per token, where the tokenizer repeatedly merges
 * the adjacent pair whose concatenation is the token of highest score.
 *
 * tokenizer.json holds such a vocabulary either as a Unigram model ([piece, score] pairs: the scores
 * are taken as they are) or as a BPE model with byte fallback, converted from SentencePiece with one
 * merge per split of each piece, ranked by the piece's score. The scores are recovered from the
 * merges: score(token) = -(rank of the first merge that produces it), so the highest-scoring
 * concatenation is the lowest-ranked merge, as in tokenizer.json. Tokens no merge produces (single
 * characters, bytes, control tokens) score below every merged token (llama.cpp compares only the
 * scores of concatenations); user-defined tokens -1000 as the converter writes them.
 */
import { TokenType } from './constants';
import { GgufExportError } from './errors';
import { mergeStrings, vocabLayout, type VocabLayout } from './tokenizer-vocab';

type Json = Record<string, unknown>;

/** "▁", SentencePiece's visible space. */
export const SPM_SPACE = '\u2581';

/** Whether a tokenizer.json is SentencePiece-style (▁ for spaces, byte fallback or Unigram) rather than byte-level BPE. */
export function isSentencePieceStyle(tokenizerJson: Json): boolean {
  const model = tokenizerJson.model as Json;
  if (model.type === 'Unigram') return true;
  if (model.type !== 'BPE') return false;
  const text = JSON.stringify([tokenizerJson.normalizer, tokenizerJson.pre_tokenizer, tokenizerJson.decoder]);
  return model.byte_fallback === true || (text.includes(SPM_SPACE) && !text.includes('ByteLevel'));
}

/** Whether the tokenizer puts a "▁" before the text (SentencePiece's add_dummy_prefix). */
export function addsSpacePrefix(tokenizerJson: Json): boolean {
  const parts = (v: unknown): Json[] => {
    if (typeof v !== 'object' || v === null) return [];
    const o = v as Json;
    if (Array.isArray(o.normalizers)) return o.normalizers.flatMap(parts);
    if (Array.isArray(o.pretokenizers)) return o.pretokenizers.flatMap(parts);
    return [o];
  };
  const prepend = parts(tokenizerJson.normalizer).some((n) => n.type === 'Prepend' && n.prepend === SPM_SPACE);
  const metaspace = parts(tokenizerJson.pre_tokenizer).some((p) => p.type === 'Metaspace' && (p.prepend_scheme === 'always' || p.prepend_scheme === 'first' || (p.prepend_scheme === undefined && p.add_prefix_space === true)));
  return prepend || metaspace;
}

export interface SpmVocab extends VocabLayout {
  scores: Float32Array;
}

/** Tokens, types and scores of a SentencePiece-style tokenizer.json for a model of `vocabSize` rows. */
export function spmVocab(tokenizerJson: Json, vocabSize: number): SpmVocab {
  const model = tokenizerJson.model as Json;
  const unk = typeof model.unk_token === 'string' ? model.unk_token : null;
  const byteFallback = model.byte_fallback === true || model.type === 'Unigram';
  const unkId = model.type === 'Unigram' && typeof model.unk_id === 'number' ? model.unk_id : null;
  const layout = vocabLayout(tokenizerJson, vocabSize, {
    normalType: (id, token) => (byteFallback && /^<0x[0-9A-Fa-f]{2}>$/.test(token) ? TokenType.BYTE : token === unk || id === unkId ? TokenType.UNKNOWN : TokenType.NORMAL),
    userDefinedText: (t) => t.replaceAll(SPM_SPACE, ' '),
  });
  const scores = new Float32Array(vocabSize);
  if (model.type === 'Unigram') {
    (model.vocab as [string, number][]).forEach(([, score], id) => {
      if (id < vocabSize) scores[id] = score;
    });
  } else {
    const ids = new Map(Object.entries(model.vocab as Record<string, number>));
    const merges = mergeStrings(tokenizerJson);
    const seen = new Set<number>();
    scores.fill(-(merges.length + 1)); // below every merge: what no merge makes is never preferred
    merges.forEach((m, rank) => {
      const sp = m.indexOf(' ');
      const id = ids.get(m.slice(0, sp) + m.slice(sp + 1));
      if (id === undefined) throw new GgufExportError(`gguf: tokenizer.json merge ${rank} "${m}" makes a token that is not in the vocabulary`);
      if (id < vocabSize && !seen.has(id)) {
        seen.add(id);
        scores[id] = -rank;
      }
    });
  }
  for (const [id, t] of layout.added) if (layout.types[id] === TokenType.USER_DEFINED && !t.special) scores[id] = -1000;
  return { ...layout, scores };
}
