/**
 * Splitting the model's own chat template into prompt and answer, for any Jinja template.
 *
 * Templates have no markers for "this is the answer", so the conversation is rendered twice: once
 * as is (F) and once with every message content replaced by a sentinel (S). The text between
 * sentinels in S is the template's scaffolding (headers, turn ends); F must read as scaffold_0,
 * content_0, scaffold_1, content_1, ... (a content may come out trimmed). Assistant contents are
 * trained, and so is the scaffolding right after an answer up to and including its first special
 * token (the end of the turn: <|im_end|>, <|eot_id|>, </s>); everything else is prompt.
 * Templates that render a message's content in a way that depends on the content itself (say,
 * moving <think> blocks) cannot be split; the error says to choose chatml or llama3.
 */
import type { Segment } from './segment';
import type { ChatMessage } from './chat-template';
import { ChatTemplateError, DatasetError } from './errors';
import type { ModelTokenizer } from './tokenizer';

const sentinel = (i: number) => `\uE000${i}\uE001`;
const SENTINEL = /\uE000(\d+)\uE001/;

function render(tok: ModelTokenizer, messages: ChatMessage[], where: string): string {
  try {
    return tok.applyChatTemplate(messages);
  } catch (e) {
    if (e instanceof ChatTemplateError) throw new DatasetError(`${where}: ${e.message}`);
    throw e;
  }
}

/** Length of the trained head of `scaffold` after an answer: through its first special token, or 0. */
function turnEnd(scaffold: string, tok: ModelTokenizer): number {
  let best = -1;
  for (const t of tok.specialTokens) {
    const at = scaffold.indexOf(t.content);
    if (at >= 0 && (best < 0 || at + t.content.length < best)) best = at + t.content.length;
  }
  return Math.max(best, 0);
}

export function modelTemplateSegments(messages: ChatMessage[], tok: ModelTokenizer, where: string): Segment[] {
  const full = render(tok, messages, where);
  const skeleton = render(tok, messages.map((m, i) => ({ role: m.role, content: sentinel(i) })), where);
  const parts = skeleton.split(SENTINEL); // [scaffold_0, index_0, scaffold_1, index_1, ..., scaffold_n]
  const fail = (why: string) =>
    new DatasetError(`${where}: the model's chat template cannot be split into prompt and answer here (${why}); choose the template chatml or llama3, or turn masking off`);

  const out: Segment[] = [];
  let pos = 0;
  let afterAnswer = false;
  for (let j = 0; j < parts.length; j += 2) {
    const scaffold = parts[j];
    if (!full.startsWith(scaffold, pos)) throw fail('the template text around the messages changes with their content');
    const trained = afterAnswer ? turnEnd(scaffold, tok) : 0;
    if (trained) out.push({ text: scaffold.slice(0, trained), train: true });
    if (scaffold.length > trained) out.push({ text: scaffold.slice(trained), train: false });
    pos += scaffold.length;
    if (j + 1 >= parts.length) break;

    const msg = messages[Number(parts[j + 1])];
    if (!msg) throw fail('a message appears that is not in the conversation');
    const next = parts[j + 2];
    const isLast = j + 3 >= parts.length;
    const fits = (c: string) => full.startsWith(c, pos) && (isLast ? pos + c.length + next.length === full.length : full.startsWith(next, pos + c.length));
    let content = [msg.content, msg.content.trim(), msg.content.trimStart(), msg.content.trimEnd()].find(fits);
    if (content === undefined && next) {
      const end = isLast ? full.length - next.length : full.indexOf(next, pos);
      if (end >= pos && (!isLast || full.endsWith(next))) content = full.slice(pos, end);
    }
    if (content === undefined) throw fail(`message ${Number(parts[j + 1]) + 1} is rendered in a way that depends on its text`);
    afterAnswer = msg.role === 'assistant';
    if (content) out.push({ text: content, train: afterAnswer });
    pos += content.length;
  }
  if (pos !== full.length) throw fail('the rendered text does not end where the template ends');
  if (!out.some((s) => s.train) && messages.some((m) => m.role === 'assistant')) throw fail('no answer text was found in the rendering');
  return out;
}
