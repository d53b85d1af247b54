/**
 * An Ollama Modelfile for an exported GGUF: FROM the model (the base, or the merged file), ADAPTER
 * the LoRA GGUF when there is one, TEMPLATE in Ollama's Go template syntax, the stop tokens and
 * sampling PARAMETERs from generation_config.json.
 *
 * The TEMPLATE is derived by rendering the model's own Jinja chat template on marker messages and
 * putting Ollama's fields where the markers land:
 *   [user U] + generation prompt                -> <before U> {{ .Prompt }} <after U>
 *   [system S, user U] + generation prompt      -> the same with {{ .System }} (when the template takes a system turn)
 *   [user U, assistant R, user U2] + generation -> between R and U2: what ends {{ .Response }}, then the
 *                                                  next user turn's opening (a template that always ends
 *                                                  with an assistant header, as Llama 3's first one did, is handled)
 * so Llama 3, ChatML (Qwen) and Gemma templates, and the demo's, come out as the turns they render.
 * A leading BOS is dropped (llama.cpp adds it). A template that cannot be rendered this way is kept
 * as a comment and TEMPLATE is the bare prompt; the file says so.
 */
import type { ModelTokenizer } from '../../data/tokenizer';

export interface ModelfileInput {
  /** Path of the model GGUF as the Modelfile should name it (relative to the Modelfile). */
  from: string;
  /** Path of the adapter GGUF, when the export is base + adapter. */
  adapter?: string;
  tokenizer: Pick<ModelTokenizer, 'chatTemplate' | 'applyChatTemplate' | 'eos' | 'bos' | 'tokenString' | 'specialTokens'>;
  /** generation_config.json, when the model has one. */
  generationConfig?: Record<string, unknown> | null;
}

const MARK = { system: '\u0001SYS\u0001', user: '\u0002USR\u0002', response: '\u0003RSP\u0003', user2: '\u0004USR\u0004' };

/** Literal text inside a Go template: only "{{" needs quoting. */
const goLiteral = (s: string) => s.replaceAll('{{', '{{ "{{" }}');

export interface TranslatedTemplate {
  template: string;
  stops: string[];
}

/** The Go template of a Jinja chat template, or an error saying why it cannot be derived. */
export function translateChatTemplate(tok: ModelfileInput['tokenizer']): TranslatedTemplate | { error: string } {
  if (!tok.chatTemplate) return { error: 'the model has no chat template' };
  const render = (msgs: { role: string; content: string }[], gen: boolean) => tok.applyChatTemplate(msgs, { addGenerationPrompt: gen });
  const bos = tok.bos === null ? null : tok.tokenString(tok.bos) ?? null;
  const stripBos = (s: string) => (bos && s.startsWith(bos) ? s.slice(bos.length) : s);
  let user: string;
  let turns: string;
  try {
    user = render([{ role: 'user', content: MARK.user }], true);
    turns = render([{ role: 'user', content: MARK.user }, { role: 'assistant', content: MARK.response }, { role: 'user', content: MARK.user2 }], true);
  } catch (e) {
    return { error: `rendering it failed (${(e as Error).message})` };
  }
  const [beforeUser, afterUser, ...rest] = user.split(MARK.user);
  if (afterUser === undefined || rest.length) return { error: 'the user message does not appear exactly once' };
  const r = turns.indexOf(MARK.response);
  const u2 = turns.indexOf(MARK.user2);
  if (r < 0 || u2 < r) return { error: 'the assistant message does not appear before the next user message' };
  // Between a response and the next user message: what ends the response, then the next user turn's opening.
  const between = turns.slice(r + MARK.response.length, u2);
  const nextOpening = stripBos(beforeUser);
  if (!between.endsWith(nextOpening)) return { error: 'a later user turn does not open as the first one does' };
  const afterResponse = between.slice(0, between.length - nextOpening.length);
  let system: { before: string; between: string } | null = null;
  try {
    const s = render([{ role: 'system', content: MARK.system }, { role: 'user', content: MARK.user }], true);
    const i = s.indexOf(MARK.system);
    const j = s.indexOf(MARK.user);
    if (i >= 0 && j > i && s.slice(j + MARK.user.length) === afterUser) system = { before: s.slice(0, i), between: s.slice(i + MARK.system.length, j) };
  } catch {
    system = null; // the template refuses a system turn
  }
  const userTurn = `${goLiteral(stripBos(beforeUser))}{{ .Prompt }}`;
  const head = system
    ? `{{ if .System }}${goLiteral(stripBos(system.before))}{{ .System }}${goLiteral(system.between)}{{ .Prompt }}{{ else }}${userTurn}{{ end }}`
    : userTurn;
  const template = `${head}${goLiteral(afterUser)}{{ .Response }}${goLiteral(afterResponse)}`;
  const text = beforeUser + afterUser + afterResponse;
  const stops = new Set<string>();
  const eos = tok.tokenString(tok.eos);
  if (eos) stops.add(eos);
  for (const t of tok.specialTokens) if (t.content !== bos && text.includes(t.content)) stops.add(t.content);
  return { template, stops: [...stops] };
}

const quote = (s: string) => JSON.stringify(s);

/** The Modelfile's text. */
export function ollamaModelfile(input: ModelfileInput): string {
  const lines = [`# Ollama Modelfile written by the finetuning studio: ollama create <name> -f Modelfile`, `FROM ${input.from}`];
  if (input.adapter) lines.push(`ADAPTER ${input.adapter}`);
  const t = translateChatTemplate(input.tokenizer);
  if ('error' in t) {
    lines.push(`# The chat template could not be translated to Ollama's syntax: ${t.error}.`);
    if (input.tokenizer.chatTemplate) {
      lines.push('# Its Jinja source (unsupported by Ollama as is):', ...input.tokenizer.chatTemplate.split('\n').map((l) => `#   ${l}`));
    }
    lines.push('TEMPLATE """{{ .Prompt }}"""');
    const eos = input.tokenizer.tokenString(input.tokenizer.eos);
    if (eos) lines.push(`PARAMETER stop ${quote(eos)}`);
  } else {
    if (t.template.includes('"""')) lines.push(`TEMPLATE ${quote(t.template)}`);
    else lines.push(`TEMPLATE """${t.template}"""`);
    for (const s of t.stops) lines.push(`PARAMETER stop ${quote(s)}`);
  }
  const g = input.generationConfig ?? {};
  for (const [key, param] of [['temperature', 'temperature'], ['top_p', 'top_p'], ['top_k', 'top_k'], ['repetition_penalty', 'repeat_penalty']] as const) {
    if (typeof g[key] === 'number' && (g.do_sample !== false || key === 'repetition_penalty')) lines.push(`PARAMETER ${param} ${g[key]}`);
  }
  return lines.join('\n') + '\n';
}
