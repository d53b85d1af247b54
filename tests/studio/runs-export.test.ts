/**
 * The Runs comparison's exports: CSV fields quoted as RFC 4180 says (a note with commas, quotes and
 * a line break survives), one row per run with every config field and the outcome, curves in long
 * form starting from the base model's validation loss at step 0; and the batch in words.
 */
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config/run-config';
import type { RunRecord, StepPoint } from '../../src/worker/api';
import { batchText, earlyStoppingText, optimizerText } from '../../src/ui/features/runs/compare-rows';
import { csvField, curvesCsv, runsCsv, runsJson } from '../../src/ui/features/runs/export';

function record(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    version: 1, id, name: `Run ${id}`, createdAt: 0, updatedAt: 0, status: 'completed', config: parseRunConfig({ maxSteps: 2, evalEvery: 2 }),
    model: { name: 'm', source: 'demo', params: 1 }, dataset: { name: 'd.jsonl', examples: 10, validation: 2, tokensPerEpoch: 100 },
    totalSteps: 2, pointCount: 2, baseValLoss: 6, final: { trainLoss: 5, trainLossMean: 5.5, valLoss: 4, bestVal: { loss: 4, step: 2 }, peakMemory: 1024, wallMs: 1500, steps: 2 },
    ...over,
  };
}

const point = (step: number, evalLoss?: number): StepPoint => ({
  step, epoch: step / 10, loss: 6 - step, lr: 1e-3, gradNorm: 1, clipCoef: 1, tokensPerSecond: 100, elapsedMs: step * 1000,
  ...(evalLoss !== undefined ? { evalLoss } : {}), memory: {} as StepPoint['memory'], memoryTotal: 0, memoryPeak: 0,
});

/** A minimal RFC 4180 reader (what a spreadsheet does). */
function parse(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; } else if (c === '\r' && text[i + 1] === '\n') { row.push(f); rows.push(row); row = []; f = ''; i++; } else f += c;
  }
  return rows;
}

describe('runs comparison exports', () => {
  it('quotes fields that need it and leaves the rest alone', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a, "b"\nc')).toBe('"a, ""b""\nc"');
    expect(csvField(undefined)).toBe('');
    expect(csvField(NaN)).toBe('');
    expect(csvField({ a: 1 })).toBe('"{""a"":1}"');
  });

  it('one row per run with every config field and the outcome; a tricky note survives', () => {
    const note = 'lr sweep, "fast"\nsecond line';
    const rows = parse(runsCsv([record('a', { note }), record('b', { config: parseRunConfig({ maxSteps: 2, evalEvery: 2, rank: 16, targets: ['query', 'key'] }) })]));
    const [header, a, b] = rows;
    expect(rows).toHaveLength(3);
    for (const r of [a, b]) expect(r).toHaveLength(header.length);
    const col = (r: string[], name: string) => r[header.indexOf(name)];
    expect(col(a, 'note')).toBe(note);
    expect(col(b, 'rank')).toBe('16');
    expect(col(b, 'targets')).toBe('query+key');
    expect(col(a, 'betas')).toBe('[0.9,0.999]');
    expect(col(a, 'best_val_loss')).toBe('4');
    expect(col(a, 'best_val_step')).toBe('2');
    expect(col(a, 'wall_time_s')).toBe('1.5');
    expect(header).toContain('earlyStoppingPatience');
  });

  it('curves in long form from the base at step 0; JSON keeps the records', () => {
    const runs = [record('a'), record('b', { baseValLoss: undefined })];
    const [header, ...rows] = parse(curvesCsv(runs, { a: [point(1), point(2, 4)], b: [point(1)] }));
    const at = (r: string[], k: string) => r[header.indexOf(k)];
    expect(rows.map((r) => `${at(r, 'run_id')}@${at(r, 'step')}:${at(r, 'val_loss')}`)).toEqual(['a@0:6', 'a@1:', 'a@2:4', 'b@1:']);
    const json = JSON.parse(runsJson(runs)) as { runs: RunRecord[] };
    expect(json.runs.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('says the batch, the optimizer and early stopping in words', () => {
    expect(batchText(parseRunConfig({ microBatch: 8, gradAccumulation: 1, maxSeqLen: 64 }))).toBe('micro-batch 8 × accumulation 1 × 64 tokens = 512 tokens/step');
    expect(optimizerText(parseRunConfig({ optimizer: 'sgd', learningRate: 0.01, momentum: 0.9 }))).toBe('SGD, learning rate 0.01, momentum 0.9');
    expect(earlyStoppingText(record('a'))).toBe('off');
    const stopped = record('c', { config: parseRunConfig({ evalEvery: 5, earlyStoppingPatience: 3 }), stoppedEarly: { step: 40, patience: 3 } });
    expect(earlyStoppingText(stopped)).toBe('stopped after step 40: after 3 evaluations without improvement');
  });
});
