/**
 * Prompt templates: a record becomes text segments, each marked `train` (its tokens are predicted
 * in the loss) or not (prompt: read by the model, masked from the loss). Assistant answers are
 * trained together with the token that ends their turn (<|im_end|>, <|eot_id|>, <end_of_turn>), so
 * the model learns to stop; headers, user and system turns are prompt.
 *
 *   alpaca  Stanford Alpaca's prompt ("Below is an instruction ... ### Instruction: ... ### Response:")
 *   chatml  <|im_start|>role\ncontent<|im_end|>\n   (Qwen, SmolLM2, many finetunes)
 *   llama3  <|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>
 *   model   the model's own chat_template (tokenizer_config.json), split by `modelTemplateSegments`
 *   none    no template: prompt + completion as they are; other fields joined by "\n"
 */
import type { ChatMessage } from './chat-template';
import { DatasetError } from './errors';
import type { Segment } from './segment';
import type { DatasetRecord, RecordFormat } from './formats/records';
import { modelTemplateSegments } from './model-template';
import type { ModelTokenizer } from './tokenizer';

export type TemplateName = 'alpaca' | 'chatml' | 'llama3' | 'model' | 'none';
export const TEMPLATES: readonly TemplateName[] = ['alpaca', 'chatml', 'llama3', 'model', 'none'];

const ALPACA_PREAMBLE = 'Below is an instruction that describes a task. Write a response that appropriately completes the request.';
const ALPACA_PREAMBLE_INPUT = 'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.';

/** The template a format gets when none is chosen. */
export function defaultTemplate(format: RecordFormat, tok: ModelTokenizer): TemplateName {
  if (format === 'chat' || format === 'sharegpt') return tok.chatTemplate ? 'model' : 'chatml';
  if (format === 'alpaca') return 'alpaca';
  return 'none';
}

/** Instruction and prompt/completion records as a conversation, for the chat templates. */
export function toMessages(rec: DatasetRecord): ChatMessage[] {
  switch (rec.kind) {
    case 'chat':
      return rec.messages;
    case 'instruction':
      return [
        ...(rec.system ? [{ role: 'system', content: rec.system }] : []),
        { role: 'user', content: rec.input ? `${rec.instruction}\n\n${rec.input}` : rec.instruction },
        { role: 'assistant', content: rec.output },
      ];
    case 'completion':
      return [{ role: 'user', content: rec.prompt }, { role: 'assistant', content: rec.completion }];
    case 'text':
      throw new DatasetError('plain text has no prompt and answer');
  }
}

function alpaca(rec: DatasetRecord): Segment[] {
  if (rec.kind === 'instruction') {
    const pre = rec.system || (rec.input ? ALPACA_PREAMBLE_INPUT : ALPACA_PREAMBLE);
    const input = rec.input ? `### Input:\n${rec.input}\n\n` : '';
    return [{ text: `${pre}\n\n### Instruction:\n${rec.instruction}\n\n${input}### Response:\n`, train: false }, { text: rec.output, train: true }];
  }
  // Conversations: each user turn is an instruction, each assistant turn a response.
  const msgs = toMessages(rec);
  const system = msgs.find((m) => m.role === 'system')?.content;
  const out: Segment[] = [{ text: `${system || ALPACA_PREAMBLE}\n\n`, train: false }];
  for (const m of msgs) {
    if (m.role === 'system') continue;
    if (m.role === 'assistant') out.push({ text: m.content, train: true }, { text: '\n\n', train: false });
    else out.push({ text: `### ${m.role === 'user' ? 'Instruction' : 'Input'}:\n${m.content}\n\n### Response:\n`, train: false });
  }
  return out;
}

function none(rec: DatasetRecord): Segment[] {
  if (rec.kind === 'completion') return [{ text: rec.prompt, train: false }, { text: rec.completion, train: true }];
  if (rec.kind === 'instruction') {
    const prompt = [rec.system, rec.instruction, rec.input].filter((s) => s).join('\n');
    return [{ text: `${prompt}\n`, train: false }, { text: rec.output, train: true }];
  }
  // Messages one per line; the line break after an answer belongs to the next (prompt) turn.
  return toMessages(rec).flatMap((m, i) => [...(i > 0 ? [{ text: '\n', train: false }] : []), { text: m.content, train: m.role === 'assistant' }]);
}

function chatml(rec: DatasetRecord): Segment[] {
  return toMessages(rec).flatMap((m) => {
    const head = `<|im_start|>${m.role}\n`;
    return m.role === 'assistant'
      ? [{ text: head, train: false }, { text: `${m.content}<|im_end|>`, train: true }, { text: '\n', train: false }]
      : [{ text: `${head}${m.content}<|im_end|>\n`, train: false }];
  });
}

function llama3(rec: DatasetRecord): Segment[] {
  const out: Segment[] = [{ text: '<|begin_of_text|>', train: false }];
  for (const m of toMessages(rec)) {
    const head = `<|start_header_id|>${m.role}<|end_header_id|>\n\n`;
    // Meta's template trims every message.
    if (m.role === 'assistant') out.push({ text: head, train: false }, { text: `${m.content.trim()}<|eot_id|>`, train: true });
    else out.push({ text: `${head}${m.content.trim()}<|eot_id|>`, train: false });
  }
  return out;
}

/** The segments of one record under a template; `where` names the record in errors. */
export function renderSegments(rec: DatasetRecord, template: TemplateName, tok: ModelTokenizer, where: string): Segment[] {
  if (rec.kind === 'text') {
    if (template !== 'none') throw new DatasetError(`${where}: plain text (continued pretraining) takes no prompt template; use the template "none"`);
    return [{ text: rec.text, train: true }];
  }
  switch (template) {
    case 'alpaca':
      return alpaca(rec);
    case 'chatml':
      return chatml(rec);
    case 'llama3':
      return llama3(rec);
    case 'none':
      return none(rec);
    case 'model':
      return modelTemplateSegments(toMessages(rec), tok, where);
  }
}

/** Template tokens that this tokenizer does not have as single tokens (they are spelled out as text). */
export function templateWarnings(template: TemplateName, tok: ModelTokenizer): string[] {
  const needs: Record<TemplateName, string[]> = {
    chatml: ['<|im_start|>', '<|im_end|>'], llama3: ['<|begin_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'], alpaca: [], model: [], none: [],
  };
  const missing = needs[template].filter((t) => tok.tokenId(t) === undefined);
  return missing.length
    ? [`template ${template}: ${missing.join(', ')} ${missing.length > 1 ? 'are not tokens' : 'is not a token'} of this tokenizer and will be spelled out as ordinary text; the model's own template ("model") fits it better`]
    : [];
}
