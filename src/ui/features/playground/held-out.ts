/**
 * The demo's held-out prompts (public/demo/tasks/demo-tell-ask-shout-exact.jsonl, written by
 * scripts/make-demo): names and verbs the training data never shows, so the playground can show
 * the base model and the new adapter on prompts neither has seen, each with the answer expected.
 */
import { demoUrl } from '../../../worker/demo';

export interface HeldOutExample {
  /** The question as a person types it (the playground wraps it in the model's template). */
  question: string;
  answer: string;
}

export const HELD_OUT_FILE = 'tasks/demo-tell-ask-shout-exact.jsonl';

/** The question inside a prompt written under the demo's template (`Q: ...\nA: `). */
export function questionOf(prompt: string): string {
  return prompt.replace(/^Q: /, '').replace(/\nA: $/, '');
}

/** Parse the exact-match task file; lines that are not `{prompt, answer}` are skipped. */
export function parseHeldOut(text: string): HeldOutExample[] {
  const out: HeldOutExample[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const o = JSON.parse(line) as { prompt?: unknown; answer?: unknown };
      if (typeof o.prompt === 'string' && typeof o.answer === 'string') out.push({ question: questionOf(o.prompt), answer: o.answer });
    } catch {
      // A damaged line only loses that example.
    }
  }
  return out;
}

/** The held-out examples of the bundled demo (empty if the file cannot be fetched). */
export async function fetchHeldOut(): Promise<HeldOutExample[]> {
  try {
    const res = await fetch(demoUrl(HELD_OUT_FILE));
    if (!res.ok) return [];
    return parseHeldOut(await res.text());
  } catch {
    return [];
  }
}

/** Whether a generated answer is the one expected (ignoring surrounding whitespace). */
export function isRight(output: string, expected: string): boolean {
  return output.trim() === expected.trim();
}
