/**
 * The tokenizer files of a model, read as JSON: `tokenizer.json` (the "fast" tokenizer that
 * @huggingface/tokenizers runs) and `tokenizer_config.json` (special tokens, chat template).
 * Only what inspect and the checks need; tokenizing is src/data's job.
 */
import { jsonTooDeep, MAX_JSON_DEPTH } from '../../core/json-limits';
import { ModelTokenizer } from '../../data/tokenizer';
import { BadFileError } from '../../core/errors';
import type { ModelFiles } from './types';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

export interface TokenizerJsonFiles {
  tokenizerJson: Record<string, unknown>;
  /** null when the model has no tokenizer_config.json */
  tokenizerConfig: Record<string, unknown> | null;
}

async function readObject(files: ModelFiles, file: string): Promise<Record<string, unknown> | null> {
  const text = await files.text(file);
  if (text === null) return null;
  if (jsonTooDeep(text)) throw new BadFileError(files.describe(file), `JSON nested more than ${MAX_JSON_DEPTH} levels deep; the file is corrupt`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BadFileError(files.describe(file), `is not valid JSON (${(e as Error).message}); the download may be incomplete`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new BadFileError(files.describe(file), 'is not a JSON object');
  return json as Record<string, unknown>;
}

/** tokenizer.json (required) and tokenizer_config.json (optional), with messages for what is there instead. */
export async function readTokenizerFiles(files: ModelFiles): Promise<TokenizerJsonFiles> {
  const tokenizerJson = await readObject(files, TOKENIZER_FILE);
  if (!tokenizerJson) {
    const spm = (await files.has('tokenizer.model')) ? ' It has only tokenizer.model (a SentencePiece file);' : '';
    throw new BadFileError(
      files.describe(TOKENIZER_FILE),
      `file is missing.${spm} the studio tokenizes with the model's own tokenizer.json ("fast" tokenizer): ` +
        'add it from the model\'s repo, or create it with transformers: AutoTokenizer.from_pretrained(path).save_pretrained(path)',
    );
  }
  const model = tokenizerJson.model as { type?: unknown; vocab?: unknown } | undefined;
  if (!model || typeof model !== 'object' || typeof model.vocab !== 'object' || model.vocab === null) {
    throw new BadFileError(files.describe(TOKENIZER_FILE), 'has no "model" with a "vocab": it is not a Hugging Face tokenizers file');
  }
  return { tokenizerJson, tokenizerConfig: await readObject(files, TOKENIZER_CONFIG_FILE) };
}

export interface TokenizerSummary {
  /** tokenizer.json's model type: BPE, Unigram, WordPiece, WordLevel */
  type: string;
  /** Largest token id + 1 over the vocabulary and the added tokens (transformers' len(tokenizer)). */
  vocab_size: number;
  special_tokens: Record<'bos' | 'eos' | 'pad' | 'unk', { content: string; id: number } | null>;
  /** Why that pad token (never EOS; see src/data/tokenizer.ts). */
  pad_source: string;
  /** Training sequences start with BOS. */
  adds_bos: boolean;
  /** Special tokens of tokenizer.json (added tokens marked special). */
  special_token_count: number;
  chat_template: boolean;
}

/** The summary `inspect` prints, from the tokenizer the studio will really use. */
export function summarizeTokenizer(t: TokenizerJsonFiles, tok: ModelTokenizer): TokenizerSummary {
  const model = t.tokenizerJson.model as { type?: unknown };
  const token = (id: number | null) => (id === null ? null : { content: tok.tokenString(id) ?? '', id });
  return {
    type: typeof model.type === 'string' ? model.type : 'unknown',
    vocab_size: tok.vocabSize,
    special_tokens: { bos: token(tok.bos), eos: token(tok.eos), pad: token(tok.pad), unk: token(tok.unk) },
    pad_source: tok.padSource,
    adds_bos: tok.addsBos,
    special_token_count: tok.specialTokens.length,
    chat_template: tok.chatTemplate !== null,
  };
}

/**
 * The tokenizer must not produce ids past the embedding table: text ids (or BOS/EOS/pad) at or
 * above `vocab_size` mean the tokenizer belongs to another model; fewer ids is the usual padding of
 * the table to a round size. Special tokens past the table that text never produces (Gemma 3's
 * image token) are allowed: a dataset that spells one out is refused by the vocabulary check.
 */
export function checkTokenizerFits(
  files: ModelFiles, tok: Pick<ModelTokenizer, 'vocabSize' | 'textVocabSize' | 'bos' | 'eos' | 'pad'>, modelVocab: number,
): void {
  const wrong = (what: string) => new BadFileError(files.describe(TOKENIZER_FILE),
    `${what} but config.json's vocab_size is ${modelVocab}: the embedding table has no row for ids ${modelVocab} and up. ` +
      'The tokenizer belongs to another model; use the tokenizer.json from this model\'s own repo');
  if (tok.textVocabSize > modelVocab) throw wrong(`has ${tok.textVocabSize} token ids (0 to ${tok.textVocabSize - 1})`);
  for (const [name, id] of [['BOS', tok.bos], ['EOS', tok.eos], ['pad', tok.pad]] as const) {
    if (id !== null && id >= modelVocab) throw wrong(`gives ${name} the id ${id}`);
  }
}

/** The studio's tokenizer (src/data/tokenizer.ts) from the model's files. */
export async function modelTokenizer(files: ModelFiles, t?: TokenizerJsonFiles): Promise<ModelTokenizer> {
  const tf = t ?? (await readTokenizerFiles(files));
  return new ModelTokenizer({
    tokenizerJson: tf.tokenizerJson,
    tokenizerConfig: tf.tokenizerConfig ?? {},
    chatTemplateJinja: (await files.text('chat_template.jinja')) ?? undefined,
    name: files.location,
  });
}
