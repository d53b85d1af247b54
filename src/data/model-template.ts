/**
 * Splitting the model's own chat template into prompt and answer, for any Jinja template.
 *
 * Templates have no markers for "this is the answer", so the conversation is rendered as is (F) and
 * with contents replaced by sentinels, and each message's span in F is found from the difference:
 *
 * 1. Skeleton (two renders): every content replaced at once (S). The text between sentinels in S is
 *    the template's scaffolding (headers, turn ends); F must read as scaffold_0, content_0,
 *    scaffold_1, content_1, ... (a content may come out trimmed or cut, as Qwen3 cuts old reasoning).
 * 2. When the scaffolding itself changes with a content (Qwen3 writes a `<think>` block it finds in
 *    the last answer where it would write an empty one), one render per message with only that
 *    content replaced (G_i): what F and G_i do not share at both ends is the text that message i
 *    produced. That text starts where the two renders diverge, so a head the template writes
 *    whatever the content (`<think>\n`) is given back to the answer when the content itself starts
 *    with it.
 *
 * Assistant spans are trained, and so is the scaffolding right after an answer up to and including
 * its first special token (the end of the turn: <|im_end|>, <|eot_id|>, <end_of_turn>, </s>); the
 * line break a template writes after that token is not: generation stops at the token, so the
 * model never writes what follows it (the next turn's prompt starts there). Everything else is prompt.
 */
import type { Segment } from './segment';
import type { ChatMessage } from './chat-template';
import { ChatTemplateError, DatasetError } from './errors';
import type { ModelTokenizer } from './tokenizer';

const sentinel = (i: number) => `\uE000${i}\uE001`;
const SENTINEL = /\uE000(\d+)\uE001/;

/** Where message `msg`'s text lies in the full rendering: [start, end). */
interface Span {
  msg: number;
  start: number;
  end: number;
}

function render(tok: ModelTokenizer, messages: ChatMessage[], where: string): string {
  try {
    return tok.applyChatTemplate(messages);
  } catch (e) {
    if (e instanceof ChatTemplateError) throw new DatasetError(`${where}: ${e.message}`);
    throw e;
  }
}

/** Spans from the skeleton render, or why the skeleton does not fit F. */
function spansFromSkeleton(full: string, skeleton: string, messages: ChatMessage[]): Span[] | string {
  const parts = skeleton.split(SENTINEL); // [scaffold_0, index_0, scaffold_1, index_1, ..., scaffold_n]
  const spans: Span[] = [];
  let pos = 0;
  for (let j = 0; j < parts.length; j += 2) {
    if (!full.startsWith(parts[j], pos)) return 'the template text around the messages changes with their content';
    pos += parts[j].length;
    if (j + 1 >= parts.length) break;
    const i = Number(parts[j + 1]);
    const msg = messages[i];
    if (!msg) return 'a message appears that is not in the conversation';
    const next = parts[j + 2];
    const isLast = j + 3 >= parts.length;
    const fits = (c: string) => full.startsWith(c, pos) && (isLast ? pos + c.length + next.length === full.length : full.startsWith(next, pos + c.length));
    let content = [msg.content, msg.content.trim(), msg.content.trimStart(), msg.content.trimEnd()].find(fits);
    if (content === undefined && next) {
      // The template rewrote the content (cut a reasoning block): what lies up to the next scaffold.
      const end = isLast ? full.length - next.length : full.indexOf(next, pos);
      if (end >= pos && (!isLast || full.endsWith(next))) content = full.slice(pos, end);
    }
    if (content === undefined) return `message ${i + 1} is rendered in a way that depends on its text`;
    spans.push({ msg: i, start: pos, end: pos + content.length });
    pos += content.length;
  }
  return pos === full.length ? spans : 'the rendered text does not end where the template ends';
}

/** Length of the longest head of `content` (not only whitespace) that `full` ends with just before `at`, after `floor`. */
function echoedHead(full: string, at: number, content: string, floor: number): number {
  for (let k = Math.min(at - floor, content.length); k > 0; k--) {
    let t = 0;
    while (t < k && full.charCodeAt(at - k + t) === content.charCodeAt(t)) t++;
    if (t === k && /\S/.test(content.slice(0, k))) return k;
  }
  return 0;
}

/** Spans from one render per message with only that content replaced, or why they do not fit. */
function spansFromDiffs(full: string, messages: ChatMessage[], tok: ModelTokenizer, where: string): Span[] | string {
  const spans: Span[] = [];
  messages.forEach((_, i) => {
    const g = render(tok, messages.map((x, k) => (k === i ? { role: x.role, content: sentinel(i) } : x)), where);
    if (g === full) return; // the template does not write this message
    const max = Math.min(full.length, g.length);
    let p = 0;
    while (p < max && full[p] === g[p]) p++;
    let s = 0;
    while (s < max - p && full[full.length - 1 - s] === g[g.length - 1 - s]) s++;
    spans.push({ msg: i, start: p, end: full.length - s });
  });
  spans.sort((a, b) => a.start - b.start);
  for (let k = 0; k < spans.length; k++) {
    const floor = k ? spans[k - 1].end : 0;
    if (spans[k].start < floor) return 'the text of one message changes how another one is written';
    const m = messages[spans[k].msg];
    if (m.role === 'assistant') spans[k].start -= echoedHead(full, spans[k].start, m.content, floor);
  }
  return spans;
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

function segmentsFromSpans(full: string, spans: Span[], messages: ChatMessage[], tok: ModelTokenizer): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  let afterAnswer = false;
  const scaffold = (text: string) => {
    const trained = afterAnswer ? turnEnd(text, tok) : 0;
    if (trained) out.push({ text: text.slice(0, trained), train: true });
    if (text.length > trained) out.push({ text: text.slice(trained), train: false });
  };
  for (const s of spans) {
    scaffold(full.slice(pos, s.start));
    afterAnswer = messages[s.msg].role === 'assistant';
    if (s.end > s.start) out.push({ text: full.slice(s.start, s.end), train: afterAnswer });
    pos = s.end;
  }
  scaffold(full.slice(pos));
  return out;
}

export function modelTemplateSegments(messages: ChatMessage[], tok: ModelTokenizer, where: string): Segment[] {
  const full = render(tok, messages, where);
  const skeleton = render(tok, messages.map((m, i) => ({ role: m.role, content: sentinel(i) })), where);
  let spans = spansFromSkeleton(full, skeleton, messages);
  if (typeof spans === 'string') {
    const diffs = spansFromDiffs(full, messages, tok, where);
    if (typeof diffs !== 'string') spans = diffs;
  }
  const fail = (why: string) =>
    new DatasetError(`${where}: the model's chat template cannot be split into prompt and answer here (${why}); choose the template chatml or llama3, or turn masking off`);
  if (typeof spans === 'string') throw fail(spans);
  const out = segmentsFromSpans(full, spans, messages, tok);
  if (!out.some((s) => s.train) && messages.some((m) => m.role === 'assistant')) throw fail('no answer text was found in the rendering');
  return out;
}
