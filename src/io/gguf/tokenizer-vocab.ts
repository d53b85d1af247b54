/**
 * The vocabulary of a tokenizer.json laid out as llama.cpp wants it: one token string and one
 * token type per id, exactly `vocab_size` (the embedding's rows) long, as convert_hf_to_gguf.py
 * builds it: ids the tokenizer lacks become "[PAD<id>]" (UNUSED); ids past the embedding (Gemma 3's
 * image token) are left out; added tokens are CONTROL when special (or when they look like control
 * tokens, "<|...|>"), else USER_DEFINED with their raw text.
 */
import { TokenType } from './constants';
import { GgufExportError } from './errors';

type Json = Record<string, unknown>;

export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

export interface VocabLayout {
  tokens: string[];
  types: Int32Array;
  /** Ids of added tokens (special or not), which the model's merges never produce. */
  added: Map<number, AddedToken>;
}

/** tokenizer.json's added_tokens. */
export function addedTokens(tokenizerJson: Json): AddedToken[] {
  const list = Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens : [];
  return list.flatMap((t: unknown) => {
    const o = t as Json;
    return typeof o?.id === 'number' && typeof o.content === 'string' ? [{ id: o.id, content: o.content, special: o.special === true }] : [];
  });
}

/** llama.cpp's converter marks these added tokens CONTROL even when tokenizer.json does not call them special. */
export function looksLikeControl(text: string): boolean {
  return (text.startsWith('<|') && text.endsWith('|>')) || (text.startsWith('<\uff5c') && text.endsWith('\uff5c>')) ||
    (text.startsWith('<unused') && text.endsWith('>')) || ['<pad>', '<mask>', '<2mass>', '[@BOS@]'].includes(text);
}

/**
 * Tokens and types by id for a model of `vocabSize` rows. `normalType(id, token)` gives the type of
 * an ordinary vocabulary entry (NORMAL, or BYTE / UNKNOWN for SentencePiece vocabularies);
 * `userDefinedText` rewrites a user-defined added token (SentencePiece's "▁" back to a space).
 */
export function vocabLayout(
  tokenizerJson: Json, vocabSize: number,
  opts: { normalType?: (id: number, token: string) => number; userDefinedText?: (t: string) => string } = {},
): VocabLayout {
  const model = tokenizerJson.model as Json;
  const vocab = model.vocab;
  const tokens: (string | undefined)[] = new Array(vocabSize);
  const types = new Int32Array(vocabSize);
  const put = (id: number, token: string, type: number, what: string) => {
    if (!Number.isInteger(id) || id < 0) throw new GgufExportError(`gguf: tokenizer.json: ${what} "${token}" has id ${id}`);
    tokens[id] = token;
    types[id] = type;
  };
  const beyond: string[] = [];
  const entries: [string, number][] = Array.isArray(vocab)
    ? (vocab as unknown[]).map((e, i) => [String((e as unknown[])[0]), i]) // Unigram: [piece, score] by id
    : Object.entries(vocab as Record<string, number>);
  for (const [token, id] of entries) {
    if (id >= vocabSize) {
      beyond.push(`"${token}" (${id})`);
      continue;
    }
    put(id, token, opts.normalType?.(id, token) ?? TokenType.NORMAL, 'token');
  }
  if (beyond.length) {
    throw new GgufExportError(`gguf: tokenizer.json has vocabulary ids past the model's vocab_size ${vocabSize}: ${beyond.slice(0, 3).join(', ')}; the tokenizer belongs to another model`);
  }
  const added = new Map<number, AddedToken>();
  for (const t of addedTokens(tokenizerJson)) {
    if (t.id >= vocabSize) continue; // never produced by text (Gemma 3's image token): the converter drops it too
    added.set(t.id, t);
    const control = t.special || looksLikeControl(t.content);
    put(t.id, control ? t.content : (opts.userDefinedText?.(t.content) ?? t.content), control ? TokenType.CONTROL : TokenType.USER_DEFINED, 'added token');
  }
  const out: string[] = new Array(vocabSize);
  for (let id = 0; id < vocabSize; id++) {
    if (tokens[id] === undefined) {
      out[id] = `[PAD${id}]`;
      types[id] = TokenType.UNUSED;
    } else out[id] = tokens[id]!;
  }
  return { tokens: out, types, added };
}

/** tokenizer.json's merges as "left right" strings (both the old string and the newer pair format). */
export function mergeStrings(tokenizerJson: Json): string[] {
  const merges = (tokenizerJson.model as Json).merges;
  if (!Array.isArray(merges)) return [];
  return merges.map((m: unknown, i) => {
    if (typeof m === 'string') return m;
    if (Array.isArray(m) && m.length === 2 && typeof m[0] === 'string' && typeof m[1] === 'string') {
      if (m[0].includes(' ') || m[1].includes(' ')) throw new GgufExportError(`gguf: tokenizer.json merge ${i} ${JSON.stringify(m)} contains a space, which llama.cpp's "left right" merge strings cannot hold`);
      return `${m[0]} ${m[1]}`;
    }
    throw new GgufExportError(`gguf: tokenizer.json merge ${i} is neither "a b" nor ["a", "b"]`);
  });
}
