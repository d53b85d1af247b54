/**
 * The model's own tokenizer: `tokenizer.json` run by @huggingface/tokenizers, with the special
 * tokens and chat template of `tokenizer_config.json`. Pure JS, no Node APIs: the same object works
 * in the Web Worker and in the CLI (which reads the files with `openTokenizerDir`).
 *
 * BOS/EOS/pad follow the model's files:
 * - `eos` is tokenizer_config's eos_token. Training appends it to every example.
 * - `bos` is bos_token (null when the model has none, as Qwen). `addsBos` says whether training
 *   sequences start with it: the config says so (add_bos_token), or the tokenizer's post-processor
 *   adds it, or the model's chat template renders bos_token (Llama 3, whose early tokenizer.json
 *   does not add BOS by itself although the model was pretrained with it).
 * - `pad` is never EOS (a pad equal to EOS is how EOS ends up masked out of the loss). In order:
 *   pad_token if distinct from EOS; a special token named like a pad (<|finetune_right_pad_id|>,
 *   <|vision_pad|> ...); unk_token; a reserved special token (Llama 3: <|reserved_special_token_0|>);
 *   any other special token that no template uses. `padSource` says which was taken. Pad positions
 *   are never targets, so the choice changes no loss value.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { BadFileError } from '../core/errors';
import { ChatTemplate, pickChatTemplate, type ChatMessage } from './chat-template';
import { ChatTemplateError } from './errors';

export interface SpecialToken {
  id: number;
  content: string;
}

export interface TokenizerFiles {
  /** Parsed tokenizer.json. */
  tokenizerJson: unknown;
  /** Parsed tokenizer_config.json ({} when the model has none). */
  tokenizerConfig?: unknown;
  /** Text of chat_template.jinja, which newer models ship instead of a chat_template field. */
  chatTemplateJinja?: string;
  /** For messages: the folder or repo the files came from. */
  name?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A special token in tokenizer_config: a string, an AddedToken object ({content}), or null. */
function tokenString(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return null;
}

export class ModelTokenizer {
  readonly bos: number | null;
  readonly eos: number;
  readonly unk: number | null;
  readonly pad: number;
  readonly padSource: string;
  readonly addsBos: boolean;
  /** One past the largest id the tokenizer can produce (base vocabulary and added tokens). */
  readonly vocabSize: number;
  /**
   * One past the largest id ordinary text can produce (special added tokens excluded). Gemma 3's
   * tokenizer has an image token at id 262144, one past its embedding table: only the ids text and
   * the chat template produce must fit the model.
   */
  readonly textVocabSize: number;
  readonly specialTokens: readonly SpecialToken[];
  readonly chatTemplate: string | null;
  readonly name: string;
  private readonly tk: Tokenizer;
  private template: ChatTemplate | undefined;
  private readonly templateTokens: Record<string, string | null> = {};
  private readonly specialIds: Set<number>;

  constructor(files: TokenizerFiles) {
    this.name = files.name ?? 'model';
    const file = `${this.name}/tokenizer.json`;
    const cfgFile = `${this.name}/tokenizer_config.json`;
    const tj = files.tokenizerJson;
    if (!isObject(tj) || !isObject(tj.model)) throw new BadFileError(file, 'is not a Hugging Face tokenizer (no "model" object); use the tokenizer.json of the model');
    const cfg = files.tokenizerConfig ?? {};
    if (!isObject(cfg)) throw new BadFileError(cfgFile, 'must be a JSON object');
    try {
      this.tk = new Tokenizer(tj, cfg);
    } catch (e) {
      throw new BadFileError(file, `cannot be loaded: ${(e as Error).message}`);
    }

    const added = [...this.tk.get_added_tokens_decoder().values()];
    this.specialTokens = added.filter((t) => t.special).map((t) => ({ id: t.id, content: t.content })).sort((a, b) => a.id - b.id);
    this.specialIds = new Set(this.specialTokens.map((t) => t.id));
    let maxId = -1;
    let maxTextId = -1;
    for (const id of this.tk.get_vocab(true).values()) {
      if (id > maxId) maxId = id;
      if (id > maxTextId && !this.specialIds.has(id)) maxTextId = id;
    }
    this.vocabSize = maxId + 1;
    this.textVocabSize = maxTextId + 1;

    // BOS and EOS must exist; an unknown unk or pad is treated as absent.
    const idOf = (field: string, strict = true): number | null => {
      const s = tokenString(cfg[field]);
      if (s === null) return null;
      const id = this.tk.token_to_id(s);
      if (id === undefined && strict) throw new BadFileError(cfgFile, `${field} "${s}" is not a token of tokenizer.json; are the two files from the same model?`);
      return id ?? null;
    };
    this.bos = idOf('bos_token');
    this.unk = idOf('unk_token', false);
    const eos = idOf('eos_token') ?? this.firstKnown(['</s>', '<|endoftext|>', '<|end_of_text|>', '<eos>', '<|im_end|>']);
    if (eos === null) throw new BadFileError(cfgFile, 'names no eos_token and the tokenizer has none of </s>, <|endoftext|>, <eos>; add "eos_token" to tokenizer_config.json');
    this.eos = eos;

    this.chatTemplate = pickChatTemplate(cfg.chat_template, files.chatTemplateJinja);
    for (const k of ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token']) this.templateTokens[k] = tokenString(cfg[k]);

    const probe = this.tk.encode('a', { add_special_tokens: true }).ids;
    const postProcessorAddsBos = this.bos !== null && probe[0] === this.bos;
    this.addsBos = this.bos !== null && (cfg.add_bos_token === true || postProcessorAddsBos || (cfg.add_bos_token !== false && !!this.chatTemplate?.includes('bos_token')));

    const pad = this.choosePad(idOf('pad_token', false));
    this.pad = pad.id;
    this.padSource = pad.source;
  }

  private firstKnown(candidates: string[]): number | null {
    for (const c of candidates) {
      const id = this.tk.token_to_id(c);
      if (id !== undefined) return id;
    }
    return null;
  }

  private choosePad(configured: number | null): { id: number; source: string } {
    const free = (id: number | null | undefined): id is number => id !== null && id !== undefined && id !== this.eos && id !== this.bos;
    const content = (id: number) => this.tk.id_to_token(id) ?? String(id);
    if (free(configured)) return { id: configured, source: `pad_token "${content(configured)}" of tokenizer_config.json` };
    const why = configured === this.eos ? 'the configured pad_token is the EOS token' : 'the model defines no pad_token';
    const special = this.specialTokens.filter((t) => free(t.id) && !this.chatTemplate?.includes(t.content));
    const named = special.find((t) => /pad/i.test(t.content));
    if (named) return { id: named.id, source: `special token "${named.content}" (${why})` };
    if (free(this.unk)) return { id: this.unk, source: `unk_token "${content(this.unk)}" (${why})` };
    const reserved = special.find((t) => /reserved/i.test(t.content)) ?? special[0];
    if (reserved) return { id: reserved.id, source: `special token "${reserved.content}" (${why})` };
    throw new BadFileError(`${this.name}/tokenizer_config.json`, `${why} and the tokenizer has no other special token to pad with; add a "pad_token" that is not the EOS token`);
  }

  /** Token ids of `text`; special-token strings in the text become their ids, as in transformers. */
  encode(text: string, opts: { addSpecialTokens?: boolean } = {}): number[] {
    return this.tk.encode(text, { add_special_tokens: opts.addSpecialTokens ?? true }).ids;
  }

  /**
   * Text of `ids`. Exact by default: transformers' clean_up_tokenization_spaces (" ." -> ".") is
   * applied only when asked, so a preview shows the text the model really reads.
   */
  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean; cleanUpSpaces?: boolean } = {}): string {
    if (ids.length === 0) return '';
    return this.tk.decode([...ids], { skip_special_tokens: opts.skipSpecialTokens ?? false, clean_up_tokenization_spaces: opts.cleanUpSpaces ?? false });
  }

  /** The id of one token string (vocabulary or added), or undefined. */
  tokenId(token: string): number | undefined {
    return this.tk.token_to_id(token);
  }

  /** The string of one id, or undefined. */
  tokenString(id: number): string | undefined {
    return this.tk.id_to_token(id);
  }

  isSpecial(id: number): boolean {
    return this.specialIds.has(id);
  }

  /** The conversation as the model's chat template writes it (transformers' apply_chat_template with tokenize=False). */
  applyChatTemplate(messages: readonly ChatMessage[], opts: { addGenerationPrompt?: boolean; extra?: Record<string, unknown> } = {}): string {
    if (!this.chatTemplate) throw new ChatTemplateError(`${this.name}: tokenizer_config.json has no chat_template; choose another template (chatml, llama3, alpaca or none)`);
    // Parsed on first use: a template this Jinja cannot parse fails the "model" template only.
    this.template ??= new ChatTemplate(this.chatTemplate, this.templateTokens);
    return this.template.render(messages, opts.addGenerationPrompt ?? false, opts.extra);
  }
}
