/**
 * `tokenizer.ggml.pre`: the name of the pre-tokenizer (the regexes that split text before BPE)
 * llama.cpp applies to a byte-level BPE vocabulary (llama-vocab.cpp). llama.cpp's converter finds
 * it by hashing a tokenization; here it is read from tokenizer.json's own pre_tokenizer, whose
 * regex each family ships verbatim, and each known name also maps back to the tokenizer.json
 * pre_tokenizer it stands for (the tests rebuild a tokenizer from a GGUF with it).
 */

/** Llama 3's split (llama.cpp "llama-bpe"): digits in groups of up to three. */
export const LLAMA3_SPLIT = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
/** Qwen2/2.5/3's split (llama.cpp "qwen2"): single digits. */
export const QWEN2_SPLIT = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

export type PreTokenizerName = 'llama-bpe' | 'qwen2' | 'gpt-2' | 'smollm' | 'default';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The pre-tokenizers of tokenizer.json as a flat list (a Sequence unrolled). */
function flatten(pre: unknown): Json[] {
  if (!isObject(pre)) return [];
  if (pre.type === 'Sequence' && Array.isArray(pre.pretokenizers)) return pre.pretokenizers.flatMap(flatten);
  return [pre];
}

/** A stable description of a pre-tokenizer chain, for comparing two of them. */
function signature(pre: unknown): string {
  return JSON.stringify(flatten(pre).map((p) => {
    if (p.type === 'Split') return { Split: (p.pattern as Json | undefined)?.Regex ?? (p.pattern as Json | undefined)?.String, behavior: p.behavior, invert: !!p.invert };
    if (p.type === 'ByteLevel') return { ByteLevel: p.use_regex !== false, prefix: !!p.add_prefix_space };
    if (p.type === 'Digits') return { Digits: !!p.individual_digits };
    return { [String(p.type)]: true };
  }));
}

/** The tokenizer.json pre_tokenizer each llama.cpp name stands for. */
export function hfPreTokenizer(name: PreTokenizerName): Json {
  const byteLevel = (useRegex: boolean) => ({ type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex });
  const split = (regex: string) => ({ type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false });
  switch (name) {
    case 'llama-bpe':
      return { type: 'Sequence', pretokenizers: [split(LLAMA3_SPLIT), byteLevel(false)] };
    case 'qwen2':
      return { type: 'Sequence', pretokenizers: [split(QWEN2_SPLIT), byteLevel(false)] };
    case 'gpt-2':
      return byteLevel(true);
    case 'smollm':
      return { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(true)] };
    case 'default':
      return byteLevel(false);
  }
}

const KNOWN: PreTokenizerName[] = ['llama-bpe', 'qwen2', 'gpt-2', 'smollm'];

/**
 * The llama.cpp pre-tokenizer of a byte-level BPE tokenizer.json, with a warning when none matches
 * (then the family's usual one, or "default"). A vocabulary without merges tokenizes byte by byte
 * whatever the split, so any name is exact for it ("default").
 */
export function detectPreTokenizer(tokenizerJson: Json, modelType: string): { name: PreTokenizerName; warning: string | null } {
  const model = tokenizerJson.model as Json;
  const merges = Array.isArray(model.merges) ? model.merges.length : 0;
  if (merges === 0) return { name: 'default', warning: null };
  const sig = signature(tokenizerJson.pre_tokenizer);
  for (const name of KNOWN) if (signature(hfPreTokenizer(name)) === sig) return { name, warning: null };
  const fallback: PreTokenizerName = modelType === 'qwen2' || modelType === 'qwen3' ? 'qwen2' : modelType === 'llama' ? 'llama-bpe' : 'default';
  return {
    name: fallback,
    warning: `the tokenizer's pre_tokenizer matches none llama.cpp knows by name (${KNOWN.join(', ')}); wrote "${fallback}", ` +
      'so llama.cpp may split some text differently than tokenizer.json',
  };
}
