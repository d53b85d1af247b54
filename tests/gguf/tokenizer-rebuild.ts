/**
 * A tokenizer.json rebuilt from nothing but a GGUF's tokenizer metadata, the way llama.cpp reads
 * it, so the tests can tokenize with it (@huggingface/tokenizers) and compare with the original:
 * - gpt2: the tokens as the BPE vocabulary, the merges in order, the pre-tokenizer the name
 *   stands for (hfPreTokenizer), merges ignored for llama-bpe (llama.cpp sets ignore_merges);
 * - llama (SentencePiece-style): llama.cpp merges the adjacent pair whose concatenation has the
 *   highest score; as BPE that is one merge per split (left, right) of each token, ranked by the
 *   token's score, with byte fallback, "▁" for spaces (and a leading "▁" with add_space_prefix).
 * CONTROL tokens become special added tokens, USER_DEFINED ones plain added tokens.
 */
import { hfPreTokenizer, TokenType, type GgufReadValue, type PreTokenizerName } from '../../src/io/gguf';

export function rebuildTokenizerJson(kv: Map<string, GgufReadValue>): Record<string, unknown> {
  const tokens = kv.get('tokenizer.ggml.tokens') as string[];
  const types = kv.get('tokenizer.ggml.token_type') as number[];
  const added = tokens.flatMap((content, id) =>
    types[id] === TokenType.CONTROL || types[id] === TokenType.USER_DEFINED
      ? [{ id, content, special: types[id] === TokenType.CONTROL, single_word: false, lstrip: false, rstrip: false, normalized: false }]
      : []);
  const vocab: Record<string, number> = {};
  tokens.forEach((t, id) => {
    if (types[id] !== TokenType.UNUSED && !(t in vocab)) vocab[t] = id;
  });
  if (kv.get('tokenizer.ggml.model') === 'gpt2') {
    const pre = kv.get('tokenizer.ggml.pre') as PreTokenizerName;
    return {
      version: '1.0', added_tokens: added, normalizer: null, pre_tokenizer: hfPreTokenizer(pre), post_processor: null,
      decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      model: {
        type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false,
        ignore_merges: pre === 'llama-bpe', vocab, merges: kv.get('tokenizer.ggml.merges') as string[],
      },
    };
  }
  const scores = kv.get('tokenizer.ggml.scores') as number[];
  const pieces = new Map<string, number>();
  tokens.forEach((t, id) => {
    if (types[id] === TokenType.NORMAL && !pieces.has(t)) pieces.set(t, id);
  });
  const merges: { merge: string; score: number; id: number }[] = [];
  for (const [piece, id] of pieces) {
    for (let k = 1; k < piece.length; k++) {
      const c = piece.charCodeAt(k);
      if (c >= 0xdc00 && c <= 0xdfff) continue; // never split a surrogate pair
      const left = piece.slice(0, k);
      const right = piece.slice(k);
      if (pieces.has(left) && pieces.has(right)) merges.push({ merge: `${left} ${right}`, score: scores[id], id });
    }
  }
  merges.sort((a, b) => b.score - a.score || a.id - b.id);
  const unk = types.indexOf(TokenType.UNKNOWN);
  const normalizers: unknown[] = [{ type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }];
  if (kv.get('tokenizer.ggml.add_space_prefix') === true) normalizers.unshift({ type: 'Prepend', prepend: '\u2581' });
  return {
    version: '1.0', added_tokens: added, normalizer: { type: 'Sequence', normalizers }, pre_tokenizer: null, post_processor: null,
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }] },
    model: {
      type: 'BPE', dropout: null, unk_token: unk >= 0 ? tokens[unk] : null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges: merges.map((m) => m.merge),
    },
  };
}
