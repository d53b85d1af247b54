/**
 * The demo's instruction dataset (Alpaca records) and its held-out prompts: say whether a short
 * sentence tells, asks or shouts. "Will Tom swim?" -> "Ask.", "Tom will swim." -> "Tell.",
 * "Tom will swim!" -> "Shout.". The base model (which has only read Jane Austen) answers none of
 * them; a default LoRA run learns the mapping, and the held-out prompts (names and verbs the
 * training data never shows) show that it learned the rule (the final mark and the word order),
 * not the examples.
 *
 * Why this task: the demo model is a 133k-parameter byte-level model, and the studio's first run
 * must visibly learn within two minutes on a CPU. Tasks that need knowledge (capitals, sums) or
 * copying stay out of its reach in that time; a three-way mapping decided by punctuation and word
 * order is within it, and every example fits in 32 tokens.
 *
 * Written for this project (no third-party text); released with the demo under the project's licence.
 */
import { Prng } from '../../src/core/rng';

export interface AlpacaRecord {
  instruction: string;
  input: string;
  output: string;
}

/** An exact-match item: the prompt under the demo's chat template and the answer expected. */
export interface HeldOutPrompt {
  prompt: string;
  answer: string;
}

export const ANSWERS = { tell: 'Tell.', ask: 'Ask.', shout: 'Shout.' } as const;
type Kind = keyof typeof ANSWERS;

const TRAIN_NAMES = ['Emma', 'Anne', 'Jane', 'Fanny', 'Kitty', 'Mary', 'Lucy', 'Tom', 'Ned', 'Sam', 'Ann', 'Bob', 'Eve', 'Kim', 'Jo', 'Ben'];
const TRAIN_VERBS = ['walk', 'sing', 'dance', 'read', 'eat', 'sleep', 'ride', 'play', 'swim', 'cook', 'write', 'stay', 'go', 'wait', 'hide', 'smile'];
const HELD_OUT_NAMES = ['Max', 'Amy', 'Dan', 'Liz', 'Ted', 'Meg'];
const HELD_OUT_VERBS = ['rest', 'run', 'sit', 'laugh', 'jump', 'draw'];
const MODALS = ['will', 'must', 'can', 'may', 'did'];

/** Longest sentence in bytes: with `<s>Q: `, `\nA: `, the longest answer and `</s>`, 32 tokens. */
export const MAX_SENTENCE_BYTES = 17;

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);

function sentence(kind: Kind, name: string, modal: string, verb: string): string {
  if (kind === 'ask') return `${cap(modal)} ${name} ${verb}?`;
  return `${name} ${modal} ${verb}${kind === 'shout' ? '!' : '.'}`;
}

/** Every (sentence, answer) the word lists allow within the length limit, in a fixed order. */
function allPairs(names: readonly string[], verbs: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const kind of Object.keys(ANSWERS) as Kind[]) {
    for (const name of names) for (const modal of MODALS) for (const verb of verbs) {
      const s = sentence(kind, name, modal, verb);
      if (new TextEncoder().encode(s).length <= MAX_SENTENCE_BYTES) out.push([s, ANSWERS[kind]]);
    }
  }
  return out;
}

/** Balanced pick of n pairs, as many of each answer, in a seeded order. */
function pick(pairs: [string, string][], n: number, rng: Prng): [string, string][] {
  const by = new Map<string, [string, string][]>();
  for (const p of rng.shuffle([...pairs])) by.set(p[1], [...(by.get(p[1]) ?? []), p]);
  const lists = [...by.values()];
  const out: [string, string][] = [];
  for (let i = 0; out.length < n; i++) {
    const list = lists[i % lists.length];
    const next = list[Math.floor(i / lists.length)];
    if (!next) break;
    out.push(next);
  }
  return rng.shuffle(out);
}

/** The training dataset: 900 records (a tenth becomes the studio's validation split), the same for the same seed. */
export function instructionDataset(seed = 2024, size = 900): AlpacaRecord[] {
  const rng = new Prng(seed, 11);
  return pick(allPairs(TRAIN_NAMES, TRAIN_VERBS), size, rng).map(([instruction, output]) => ({ instruction, input: '', output }));
}

/** Held-out prompts (names and verbs not in the dataset) under the demo's template, for exact-match scoring and the playground. */
export function heldOutPrompts(seed = 7, size = 30): HeldOutPrompt[] {
  const rng = new Prng(seed, 11);
  return pick(allPairs(HELD_OUT_NAMES, HELD_OUT_VERBS), size, rng).map(([s, answer]) => ({ prompt: `Q: ${s}\nA: `, answer }));
}

/** The dataset as JSON Lines, one record per line. */
export function toJsonl(records: readonly object[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}
