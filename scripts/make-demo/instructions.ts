/**
 * The demo's instruction dataset (Alpaca records): short questions with short, fixed-style answers
 * that the base model (which has only read Jane Austen) never gives: sums of digits, what comes
 * after a number, opposites, capitals, colours, animal sounds, Austen trivia, and copying a word.
 * A LoRA finetune visibly changes the answers: Austen-like rambling becomes "8." or "Paris." and
 * an end of turn. Every example fits in 64 tokens under the model's chat template.
 *
 * Written for this project (no third-party text); released with the demo under the project's licence.
 */
import { Prng } from '../../src/core/rng';

export interface AlpacaRecord {
  instruction: string;
  input: string;
  output: string;
}

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];

const OPPOSITES: [string, string][] = [
  ['hot', 'cold'], ['big', 'small'], ['up', 'down'], ['day', 'night'], ['fast', 'slow'], ['happy', 'sad'],
  ['light', 'dark'], ['old', 'young'], ['rich', 'poor'], ['early', 'late'], ['open', 'closed'], ['full', 'empty'],
  ['hard', 'soft'], ['wet', 'dry'], ['loud', 'quiet'], ['strong', 'weak'], ['tall', 'short'], ['true', 'false'],
  ['good', 'bad'], ['first', 'last'], ['left', 'right'], ['win', 'lose'], ['near', 'far'], ['love', 'hate'],
  ['clean', 'dirty'], ['high', 'low'], ['thick', 'thin'], ['heavy', 'light'], ['begin', 'end'], ['inside', 'outside'],
  ['north', 'south'], ['east', 'west'], ['always', 'never'], ['buy', 'sell'], ['push', 'pull'], ['laugh', 'cry'],
];

const CAPITALS: [string, string][] = [
  ['France', 'Paris'], ['England', 'London'], ['Spain', 'Madrid'], ['Italy', 'Rome'], ['Germany', 'Berlin'],
  ['Portugal', 'Lisbon'], ['Greece', 'Athens'], ['Austria', 'Vienna'], ['Ireland', 'Dublin'], ['Scotland', 'Edinburgh'],
  ['Norway', 'Oslo'], ['Sweden', 'Stockholm'], ['Denmark', 'Copenhagen'], ['Finland', 'Helsinki'], ['Poland', 'Warsaw'],
  ['Russia', 'Moscow'], ['Egypt', 'Cairo'], ['Japan', 'Tokyo'], ['China', 'Beijing'], ['India', 'New Delhi'],
  ['Canada', 'Ottawa'], ['Mexico', 'Mexico City'], ['Peru', 'Lima'], ['Chile', 'Santiago'], ['Kenya', 'Nairobi'],
  ['Turkey', 'Ankara'], ['Hungary', 'Budapest'], ['Belgium', 'Brussels'], ['Wales', 'Cardiff'], ['Cuba', 'Havana'],
];

const COLOURS: [string, string][] = [
  ['grass', 'green'], ['the sky', 'blue'], ['snow', 'white'], ['coal', 'black'], ['blood', 'red'], ['a banana', 'yellow'],
  ['a lemon', 'yellow'], ['chocolate', 'brown'], ['milk', 'white'], ['a tomato', 'red'], ['a carrot', 'orange'],
  ['a frog', 'green'], ['the night', 'black'], ['ash', 'grey'], ['a plum', 'purple'], ['the sea', 'blue'],
  ['a strawberry', 'red'], ['a crow', 'black'], ['a leaf', 'green'], ['the sun', 'yellow'],
];

const SOUNDS: [string, string][] = [
  ['cow', 'moo'], ['dog', 'woof'], ['cat', 'meow'], ['duck', 'quack'], ['sheep', 'baa'], ['pig', 'oink'],
  ['owl', 'hoot'], ['horse', 'neigh'], ['lion', 'roar'], ['snake', 'hiss'], ['bee', 'buzz'], ['mouse', 'squeak'],
  ['frog', 'croak'], ['goat', 'bleat'], ['crow', 'caw'], ['hen', 'cluck'],
];

const AUSTEN: [string, string][] = [
  ['Who wrote Emma?', 'Jane Austen.'], ['Who wrote Persuasion?', 'Jane Austen.'], ['Who wrote Pride and Prejudice?', 'Jane Austen.'],
  ['Who wrote Mansfield Park?', 'Jane Austen.'], ['Who wrote Northanger Abbey?', 'Jane Austen.'], ['Who wrote Sense and Sensibility?', 'Jane Austen.'],
  ['Who marries Elizabeth Bennet?', 'Mr. Darcy.'], ['Who marries Emma Woodhouse?', 'Mr. Knightley.'], ['Who marries Anne Elliot?', 'Captain Wentworth.'],
  ['Who marries Fanny Price?', 'Edmund Bertram.'], ['Who marries Catherine Morland?', 'Henry Tilney.'], ['Who marries Elinor Dashwood?', 'Edward Ferrars.'],
  ['Where does Emma Woodhouse live?', 'Highbury.'], ['Where does Mr. Darcy live?', 'Pemberley.'], ['Where does Fanny Price live?', 'Mansfield Park.'],
];

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);

/** Every record of the dataset, in a fixed shuffled order (the same for the same seed). */
export function instructionDataset(seed = 2024): AlpacaRecord[] {
  const rng = new Prng(seed, 11);
  const pick = <T>(xs: readonly T[]): T => xs[rng.nextInt(xs.length)];
  const out: AlpacaRecord[] = [];
  const ask = (instruction: string, output: string, input = '') => out.push({ instruction, input, output });

  for (let a = 0; a <= 9; a++) {
    for (let b = 0; b <= 9; b++) {
      const form = rng.nextInt(4);
      if (form === 3) ask('Add the two numbers.', `${a + b}.`, `${a} and ${b}`);
      else ask([`What is ${a} + ${b}?`, `What is ${a} plus ${b}?`, `Add ${a} and ${b}.`][form], `${a} + ${b} = ${a + b}.`);
    }
  }
  for (let n = 0; n <= 19; n++) ask(pick([`What comes after ${n}?`, `What number follows ${n}?`]), `${n + 1}.`);
  for (let n = 0; n < NUMBER_WORDS.length - 1; n++) ask(`What comes after ${NUMBER_WORDS[n]}?`, `${cap(NUMBER_WORDS[n + 1])}.`);
  for (const [a, b] of OPPOSITES) {
    ask(`What is the opposite of ${a}?`, `${cap(b)}.`);
    ask(pick([`What is the opposite of ${b}?`, `Give the opposite of ${b}.`]), `${cap(a)}.`);
  }
  for (const [country, city] of CAPITALS) ask(pick([`What is the capital of ${country}?`, `Name the capital of ${country}.`]), `${city}.`);
  for (const [thing, colour] of COLOURS) ask(`What colour is ${thing}?`, `${cap(colour)}.`);
  for (const [animal, sound] of SOUNDS) ask(`What does a ${animal} say?`, `${cap(sound)}.`);
  for (const [q, a] of AUSTEN) ask(q, a);
  const words = [...new Set([...OPPOSITES.flat(), ...SOUNDS.map(([a]) => a)])];
  rng.shuffle(words);
  for (const w of words.slice(0, 40)) ask('Repeat the word.', w, w);
  for (const w of words.slice(40, 70)) ask(`What is the first letter of ${w}?`, `${w[0].toUpperCase()}.`);
  return rng.shuffle(out);
}

/** The dataset as JSON Lines, one Alpaca record per line. */
export function toJsonl(records: readonly AlpacaRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + '\n';
}
