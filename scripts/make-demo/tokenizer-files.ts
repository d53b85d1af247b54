/**
 * The demo's tokenizer as Hugging Face files: byte-level BPE (GPT-2's byte-to-unicode alphabet)
 * with no merges, so every UTF-8 byte is one token and any text encodes without an unknown token.
 * Ids: 0 <pad>, 1 <s> (BOS), 2 </s> (EOS), 3 + b for byte b: 259 tokens.
 *
 * The post-processor adds BOS (as Llama's tokenizer.json does); the chat template writes
 * bos_token itself, as Llama's does, because transformers renders templates without special tokens.
 */

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;
export const SPECIALS = ['<pad>', '<s>', '</s>'] as const;
export const BYTE_OFFSET = SPECIALS.length;
export const VOCAB_SIZE = BYTE_OFFSET + 256;

/**
 * A one-turn-per-line template: "Q: question\nA: answer</s>". Short on purpose: the demo model
 * sees 64 to 128 bytes per example, and the Alpaca preamble alone is over 100.
 */
export const CHAT_TEMPLATE =
  "{{ bos_token }}{% for message in messages %}" +
  "{% if message['role'] == 'system' %}{{ message['content'] + '\\n' }}" +
  "{% elif message['role'] == 'user' %}{{ 'Q: ' + message['content'] + '\\n' }}" +
  "{% elif message['role'] == 'assistant' %}{{ 'A: ' + message['content'] + eos_token }}" +
  "{% else %}{{ raise_exception('Only system, user and assistant roles are supported') }}{% endif %}" +
  "{% endfor %}{% if add_generation_prompt %}{{ 'A: ' }}{% endif %}";

/** GPT-2's reversible map from bytes to printable unicode characters (tokenizers' ByteLevel). */
export function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    map[b] = printable.includes(b) ? String.fromCodePoint(b) : String.fromCodePoint(256 + extra++);
  }
  return map;
}

const special = (id: number, content: string) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
});

export function tokenizerJson(): object {
  const vocab: Record<string, number> = {};
  SPECIALS.forEach((s, i) => (vocab[s] = i));
  bytesToUnicode().forEach((ch, b) => (vocab[ch] = BYTE_OFFSET + b));
  const bos = { SpecialToken: { id: '<s>', type_id: 0 } };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((s, i) => special(i, s)),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    post_processor: {
      type: 'TemplateProcessing',
      single: [bos, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [bos, { Sequence: { id: 'A', type_id: 0 } }, bos, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [BOS], tokens: ['<s>'] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [],
    },
  };
}

export function tokenizerConfigJson(): object {
  const decoder: Record<string, object> = {};
  // Keyed by id, without an `id` field of their own (transformers' layout; it warns on unknown keys).
  SPECIALS.forEach((s, i) => {
    const { id: _id, ...entry } = special(i, s);
    decoder[String(i)] = entry;
  });
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    added_tokens_decoder: decoder,
    bos_token: '<s>',
    eos_token: '</s>',
    pad_token: '<pad>',
    add_bos_token: true,
    add_eos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: 256,
    chat_template: CHAT_TEMPLATE,
  };
}

/** Byte-level ids of text, without specials (the same as the tokenizer's; used where speed matters). */
export function byteIds(text: string): number[] {
  return [...new TextEncoder().encode(text)].map((b) => BYTE_OFFSET + b);
}
