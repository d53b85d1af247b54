// The steps around tokenization: split by seed, packing, statistics, plain-text chunking, preview.
import { describe, expect, it } from 'vitest';
import type { TokenizedExample } from '../../src/data/batching';
import { epochBatches, IGNORE_INDEX } from '../../src/data/batching';
import { packExamples } from '../../src/data/packing';
import { prepareDataset } from '../../src/data/prepare';
import { previewDataset } from '../../src/data/preview';
import { splitExamples } from '../../src/data/split';
import { lengthStats } from '../../src/data/stats';
import { encodeDocument } from '../../src/data/tokenize';
import { realTokenizer } from './tokenizers';

const llama = realTokenizer('llama3');
const j = JSON.stringify;
const ex = (n: number, tag = n): TokenizedExample => ({ ids: Array.from({ length: n }, (_, i) => tag * 1000 + i), inLoss: Array.from({ length: n }, (_, i) => i > 0) });

describe('train/validation split', () => {
  const data = Array.from({ length: 50 }, (_, i) => ex(3, i));

  it('is a seeded partition that keeps file order; same seed, same split', () => {
    const a = splitExamples(data, 0.2, 7);
    expect(a.validation).toHaveLength(10);
    expect(a.train).toHaveLength(40);
    const tags = (xs: TokenizedExample[]) => xs.map((e) => e.ids[0] / 1000);
    expect([...tags(a.train), ...tags(a.validation)].sort((x, y) => x - y)).toEqual(data.map((_, i) => i));
    expect(tags(a.validation)).toEqual([...tags(a.validation)].sort((x, y) => x - y));
    expect(tags(splitExamples(data, 0.2, 7).validation)).toEqual(tags(a.validation));
    expect(tags(splitExamples(data, 0.2, 8).validation)).not.toEqual(tags(a.validation));
  });

  it('holds out at least one and keeps at least one', () => {
    expect(splitExamples(data.slice(0, 3), 0.01, 1).validation).toHaveLength(1);
    expect(splitExamples(data.slice(0, 2), 0.9, 1).train).toHaveLength(1);
    expect(splitExamples(data, 0, 1).validation).toHaveLength(0);
  });
});

describe('packing (best-fit decreasing)', () => {
  const lens = [7, 3, 5, 2, 8, 1, 4, 6, 2, 2];
  const examples = lens.map((n, i) => ex(n, i + 1));
  const rows = packExamples(examples, 8);

  it('keeps every token once, fills rows of at most maxLen, and is tight here', () => {
    expect(rows.every((r) => r.ids.length <= 8)).toBe(true);
    expect(rows.flatMap((r) => r.ids).sort((a, b) => a - b)).toEqual(examples.flatMap((e) => e.ids).sort((a, b) => a - b));
    expect(rows).toHaveLength(Math.ceil(lens.reduce((a, b) => a + b) / 8)); // 40 tokens -> 5 full rows
  });

  it("never trains on predicting an example's first token from the previous example", () => {
    for (const r of rows) {
      r.ids.forEach((id, t) => {
        if (id % 1000 === 0) expect(r.inLoss![t]).toBe(false); // first token of an example
        else expect(r.inLoss![t]).toBe(true);
      });
    }
    // In batches: no target is the first token of an example.
    const b = epochBatches(rows, 5, 8, 0, 1, 0)[0];
    for (let i = 0; i < b.targets.length; i++) if (b.targets[i] !== IGNORE_INDEX) expect(b.targets[i] % 1000).not.toBe(0);
  });

  it('prepareDataset packs after the split and reports rows and efficiency', () => {
    const data = Array.from({ length: 12 }, (_, i) => j({ prompt: `Q${i}`, completion: ` A${i}` })).join('\n');
    const r = prepareDataset(data, 'p.jsonl', llama, { maxLen: 16, pack: true, validationFraction: 0.25, seed: 3 });
    expect(r.stats).toMatchObject({ examples: 12, train_examples: 9, validation_examples: 3 });
    expect(r.train.length + r.validation.length).toBe(r.stats.packed_rows);
    expect(r.train.flatMap((e) => e.ids).length + r.validation.flatMap((e) => e.ids).length).toBe(r.stats.tokens);
    expect(r.stats.packing_efficiency).toBeCloseTo(r.stats.tokens / (r.stats.packed_rows! * 16), 12);
    expect(r.train.every((e) => e.ids.length <= 16)).toBe(true);
  });
});

describe('statistics', () => {
  it('min/mean/p95 (nearest rank)/max and the loss-token fraction', () => {
    const s = lengthStats(Array.from({ length: 20 }, (_, i) => ex(i + 1)));
    expect(s).toEqual({ examples: 20, tokens: 210, min_len: 1, mean_len: 10.5, p95_len: 19, max_len: 20, loss_tokens: 190, loss_token_fraction: 190 / 210 });
  });
});

describe('plain text', () => {
  const text = 'First paragraph, with numbers 12345 and émojis 🦙.\n\n  Indented line.\nNext line\n\n\nThird   block\twith tabs.\n'.repeat(40);

  it('tokenizes long text in pieces exactly as in one piece (byte-level BPE)', () => {
    const whole = llama.encode(text, { addSpecialTokens: false });
    const doc = encodeDocument(text, llama, 97); // cut often, at line and word boundaries
    expect(doc.ids).toEqual([128000, ...whole, 128001]);
  });

  it('JSONL {"text"} records are documents: one example each, or blocks of maxLen', () => {
    const data = [j({ text: 'Hello world' }), j({ text: text.slice(0, 400) })].join('\n');
    const r = prepareDataset(data, 't.jsonl', llama, { maxLen: 32 });
    expect(r.format).toBe('text');
    expect(r.train[0].ids).toEqual([128000, 9906, 1917, 128001]);
    expect(r.train.slice(1).every((e) => e.ids.length <= 32)).toBe(true);
    expect(r.stats.truncated).toBe(0);
  });
});

describe('pre-tokenized JSONL passes through', () => {
  it('keeps ids and loss_mask, truncates to maxLen with a count', () => {
    const data = [j({ loss_mask: [0, 0, 1, 1, 1], tokens: [1, 2, 3, 4, 5] }), j({ tokens: [6, 7] })].join('\n'); // any key order
    const r = prepareDataset(data, 'tok.jsonl', null, { maxLen: 4, vocabSize: 10 });
    expect(r.format).toBe('tokens');
    expect(r.train).toEqual([{ ids: [1, 2, 3, 4], inLoss: [false, false, true, true] }, { ids: [6, 7] }]);
    expect(r.stats).toMatchObject({ examples: 2, tokens: 6, truncated: 1, truncated_tokens: 1, loss_tokens: 3 });
  });
});

describe('preview', () => {
  it('shows the first examples as prompt and train runs of decoded text', () => {
    const data = [j({ instruction: 'Add 2 and 3.', output: '5' }), j({ instruction: 'Hi', output: 'Hello' })].join('\n');
    const p = previewDataset(data, 'a.jsonl', llama, {}, 1);
    expect(p).toMatchObject({ format: 'alpaca', template: 'alpaca', records: 2, warnings: [] });
    expect(p.examples).toEqual([{
      length: 34, lossTokens: 2,
      segments: [
        { kind: 'prompt', tokens: 32, text: '<|begin_of_text|>Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\nAdd 2 and 3.\n\n### Response:\n' },
        { kind: 'train', tokens: 2, text: '5<|end_of_text|>' },
      ],
    }]);
  });

  it('reports progress while tokenizing', () => {
    const seen: [number, number][] = [];
    prepareDataset(Array.from({ length: 300 }, () => j({ prompt: 'a', completion: 'b' })).join('\n'), 'p.jsonl', llama, { onProgress: (d, t) => seen.push([d, t]) });
    expect(seen).toEqual([[0, 300], [256, 300], [300, 300]]);
  });
});
