// Task files: kinds, validation messages that name the line; exact-match normalization.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cutAtStop, detectTaskKind, normalizeAnswer, parseExactTask, parseMcTask } from '../../src/train/eval';
import { mcRows } from '../../src/train/eval/multiple-choice';

describe('task files', () => {
  it('detects the kind from the first item', () => {
    expect(detectTaskKind('{"context": "a", "choices": ["b", "c"], "answer": 0}', 'f')).toBe('mc');
    expect(detectTaskKind('{"context_tokens": [1], "choices_tokens": [[2], [3]], "answer": 1}', 'f')).toBe('mc');
    expect(detectTaskKind('{"prompt": "a", "answer": "b"}', 'f')).toBe('exact');
    expect(detectTaskKind('{"instruction": "a", "output": "b"}', 'f')).toBe('perplexity');
  });

  it('names the line and the fix', () => {
    const good = '{"context": "a", "choices": ["b", "c"], "answer": 0}\n';
    expect(() => parseMcTask(`${good}{"context": "a", "choices": ["b"], "answer": 0}`, 't.jsonl', 10)).toThrow(/t\.jsonl, line 2: "choices" must be an array of at least 2 non-empty strings/);
    expect(() => parseMcTask(`${good}{"context": "a", "choices": ["b", "c"], "answer": 2}`, 't.jsonl', 10)).toThrow(/line 2: "answer" must be the index of the right choice, an integer in \[0, 2\), got 2/);
    expect(() => parseMcTask('{"context_tokens": [1], "choices_tokens": [[2], [30]], "answer": 0}', 't.jsonl', 10)).toThrow(/line 1: "choices_tokens\[1\]"\[0\] \(30\) is not a token id in \[0, 10\)/);
    expect(() => parseMcTask('{"context_tokens": [1], "answer": 0}', 't.jsonl', 10)).toThrow(/line 1: a pre-tokenized item needs both/);
    expect(() => parseMcTask(`${good}{"context": "a", `, 't.jsonl', 10)).toThrow(/t\.jsonl, line 2: not valid JSON/);
    expect(() => parseMcTask('{"context": "a", "choices": ["b", "c"], "choices_tokens": [[1]], "answer": 0}', 't.jsonl', 10)).toThrow(/line 1: "choices_tokens" must be an array of at least 2/);
    expect(() => parseExactTask('{"prompt": "", "answer": "x"}', 'e.jsonl')).toThrow(/e\.jsonl, line 1: "prompt" must be a non-empty string/);
    expect(() => parseExactTask('\n\n', 'e.jsonl')).toThrow(/e\.jsonl: no items/);
  });

  it('mc rows: targets are the choice tokens at the positions that predict them; too long rows lose the left of the context', () => {
    const [row] = mcRows([{ context: [5, 6, 7], choices: [[8, 9]] }], 16);
    expect(row.tokens).toEqual([5, 6, 7, 8]);
    expect(row.targets).toEqual([-100, -100, 8, 9]);
    const [cut] = mcRows([{ context: [1, 2, 3, 4, 5], choices: [[8, 9]] }], 4);
    expect(cut.tokens).toEqual([3, 4, 5, 8]);
    expect(cut.targets).toEqual([-100, -100, 8, 9]);
  });

  it('exact match: stop strings and normalization', () => {
    expect(cutAtStop('Paris.\nQ: next', '\n')).toBe('Paris.');
    expect(normalizeAnswer('  New   Delhi. ', { whitespace: true })).toBe('New Delhi.');
    expect(normalizeAnswer('Paris.', { case: true })).toBe('paris.');
    expect(normalizeAnswer(' Paris ')).toBe(' Paris ');
  });
});

describe('the demo\'s bundled task sets (public/demo/tasks)', () => {
  const read = (name: string) => readFileSync(`public/demo/tasks/${name}`, 'utf8');
  it('parse, with the kinds their names say', () => {
    for (const name of ['demo-tell-ask-shout-mc.jsonl', 'demo-english-mc.jsonl']) {
      expect(detectTaskKind(read(name), name)).toBe('mc');
      expect(parseMcTask(read(name), name, 320).length).toBeGreaterThanOrEqual(20);
    }
    expect(detectTaskKind(read('demo-tell-ask-shout-exact.jsonl'), 'x')).toBe('exact');
    expect(parseExactTask(read('demo-tell-ask-shout-exact.jsonl'), 'x')).toHaveLength(30);
  });
});
