/**
 * A model's chat template (Jinja, from tokenizer_config.json or chat_template.jinja) rendered with
 * @huggingface/jinja the way transformers' `apply_chat_template` does: the messages, the special
 * tokens as strings, `add_generation_prompt`. The template's own `raise_exception(msg)` (a global
 * of @huggingface/jinja, which cannot be replaced) and Jinja errors become a ChatTemplateError.
 */
import { Template } from '@huggingface/jinja';
import { ChatTemplateError } from './errors';

export interface ChatMessage {
  role: string;
  content: string;
}

/** `chat_template` may be one string or a list of named templates; "default" is the one for chat. */
export function pickChatTemplate(value: unknown, chatTemplateFile?: string): string | null {
  if (typeof chatTemplateFile === 'string' && chatTemplateFile.trim()) return chatTemplateFile;
  if (typeof value === 'string') return value.trim() ? value : null;
  if (Array.isArray(value)) {
    const named = value.filter((t): t is { name: string; template: string } => typeof t?.name === 'string' && typeof t?.template === 'string');
    return (named.find((t) => t.name === 'default') ?? named[0])?.template ?? null;
  }
  return null;
}

export class ChatTemplate {
  private readonly template: Template;

  constructor(readonly source: string, private readonly tokens: Record<string, string | null>) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new ChatTemplateError(`the chat template does not parse as Jinja: ${(e as Error).message}`);
    }
  }

  render(messages: readonly ChatMessage[], addGenerationPrompt = false, extra: Record<string, unknown> = {}): string {
    try {
      return this.template.render({
        ...this.tokens,
        ...extra,
        messages: messages.map((m) => ({ role: m.role, content: m.content })),
        add_generation_prompt: addGenerationPrompt,
      });
    } catch (e) {
      throw new ChatTemplateError(`the chat template refused the conversation or failed: ${(e as Error).message}`);
    }
  }
}
