// The Sweep tab's logic without a browser: its choices as a sweep request on top of the Configure
// draft (values checked by the run config's schema, what the sweep changes said in words), and
// the results table (rows as the CLI writes them, best marked among finished runs, sorting with
// unfinished runs last, the exports' rows, the chart's series of a metric against a field).
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config/run-config';
import { describeVarying, expandAxes } from '../../src/train/sweep/grid';
import { lossSummary, taskScores, toCsv } from '../../src/train/sweep/results';
import type { SweepEntry, SweepRecord } from '../../src/worker/sweep-types';
import { buildSweep, emptyPicks, parseNumbers, showField, type Picks } from '../../src/ui/features/sweep/axes';
import { chartSeries, exportRows, sortRows, sweepColumns, sweepRows } from '../../src/ui/features/sweep/table';
import { STUDIO_DEFAULTS, validate } from '../../src/ui/stores/run-config';

const config = validate({ ...STUDIO_DEFAULTS }).config!;
const QV = ['query', 'value'];
const ALL = ['query', 'key', 'value', 'projection', 'mlp'];

function picks(p: Partial<Record<keyof Picks, Partial<Picks[keyof Picks]>>>): Picks {
  const out = emptyPicks();
  for (const [k, v] of Object.entries(p)) out[k as keyof Picks] = { ...out[k as keyof Picks], on: true, ...v };
  return out;
}

describe('the Sweep tab\'s choices', () => {
  it('rank {4, 8} x targets {q+v, all linear} with alpha = 2 x rank: four runs on top of the draft', () => {
    const built = buildSweep(config, { picks: picks({ rank: { text: '4, 8' }, targets: { chosen: ['qv', 'all'] } }), alpha: 'tied' });
    expect(built.errors).toEqual({});
    expect(built.count).toBe(4);
    expect(built.request!.axes).toEqual([['rank', [4, 8]], ['targets', [QV, ALL]]]);
    const runs = expandAxes(built.request!.base, built.request!.axes);
    expect(runs.map((r) => [r.config.rank, r.config.alpha, r.config.targets])).toEqual([[4, 8, QV], [4, 8, ALL], [8, 16, QV], [8, 16, ALL]]);
    expect(runs.every((r) => r.config.maxSteps === config.maxSteps && r.config.learningRate === config.learningRate)).toBe(true);
    expect(describeVarying(runs[1].varying)).toBe('rank 4, targets query+key+value+projection+mlp');
    // Fixed alpha: the draft's alpha in every run.
    const fixed = buildSweep(config, { picks: picks({ rank: { text: '4 8' } }), alpha: 'fixed' });
    expect(expandAxes(fixed.request!.base, fixed.request!.axes).map((r) => r.config.alpha)).toEqual([config.alpha, config.alpha]);
  });

  it('checks each value with the schema and names the bad one; nothing ticked is no sweep', () => {
    expect(parseNumbers('1e-4, 3e-4;1e-3 1e-3')).toEqual({ values: [1e-4, 3e-4, 1e-3], bad: null });
    expect(buildSweep(config, { picks: picks({ rank: { text: '4, x' } }), alpha: 'tied' }).errors.rank).toBe('"x" is not a number');
    expect(buildSweep(config, { picks: picks({ rank: { text: '4, 2.5' } }), alpha: 'tied' }).errors.rank).toBe('2.5: enter a whole number');
    expect(buildSweep(config, { picks: picks({ dropout: { text: '0.95' } }), alpha: 'tied' }).errors.dropout).toBe('0.95: must be at most 0.9');
    expect(buildSweep(config, { picks: picks({ optimizer: { chosen: [] } }), alpha: 'tied' }).errors.optimizer).toBe('tick at least one');
    const bad = buildSweep(config, { picks: picks({ seed: { text: '' } }), alpha: 'tied' });
    expect(bad.request).toBeNull();
    expect(bad.errors.seed).toMatch(/type the values to try/);
    expect(buildSweep(config, { picks: emptyPicks(), alpha: 'tied' })).toMatchObject({ request: null, count: 0 });
  });

  it('says what it changes in the draft: epochs replace the step limit, warmup goes for schedules without one', () => {
    const e = buildSweep(config, { picks: picks({ epochs: { text: '1, 2' } }), alpha: 'tied' });
    expect(e.request!.base.maxSteps).toBeUndefined();
    expect(e.notes[0]).toMatch(/step limit \(100 steps\) is left out/);
    const s = buildSweep(config, { picks: picks({ schedule: { chosen: ['constant', 'warmup-cosine'] } }), alpha: 'tied' });
    expect(s.request!.base.warmupSteps).toBe(0);
    expect(expandAxes(s.request!.base, s.request!.axes).map((r) => parseRunConfig(r.config).schedule)).toEqual(['constant', 'warmup-cosine']);
    expect(showField('targets', ALL)).toBe('all linear layers');
    expect(showField('targets', ['query', 'mlp'])).toBe('query + mlp');
  });
});

const outcome = (p: number, best: number | null, train: number) => ({
  trainableParams: p, peakMemoryBytes: 1000 * p, wallTimeS: 1.5, finalTrainLoss: train, bestValLoss: best, finalValLoss: best === null ? null : best + 0.1,
  scores: taskScores('demo-tell-ask-shout-mc.jsonl', { acc: p / 100, acc_norm: 0.5 }),
});
const entry = (i: number, varying: Record<string, unknown>, extra: Partial<SweepEntry>): SweepEntry => ({
  name: `${i}`, label: describeVarying(varying), config: parseRunConfig({ rank: varying.rank as number }), varying, status: 'done', ...extra,
});
const record: SweepRecord = {
  version: 1, id: 's', name: 'S', createdAt: 0, updatedAt: 0, status: 'stopped', axes: [['rank', [4, 8]], ['targets', [QV, ALL]]],
  tasks: [{ source: { kind: 'bundled', file: 'demo-tell-ask-shout-mc.jsonl' }, name: 'demo-tell-ask-shout-mc.jsonl' }], model: 'm', dataset: 'd',
  entries: [
    entry(1, { rank: 4, targets: QV }, { outcome: outcome(10, 2.5, 2.0) }),
    entry(2, { rank: 4, targets: ALL }, { outcome: outcome(30, 2.1, 1.8) }),
    entry(3, { rank: 8, targets: QV }, { outcome: outcome(20, 2.3, 1.9) }),
    entry(4, { rank: 8, targets: ALL }, { status: 'stopped', runId: 'r4' }),
  ],
};

describe('the results table', () => {
  const rows = sweepRows(record);
  it('rows are the CLI\'s; the best is the finished run with the lowest best validation loss', () => {
    expect(rows.map((r) => r.best)).toEqual([false, true, false, false]);
    expect(rows[1].cells).toMatchObject({ run: '2', rank: 4, targets: ALL, trainable_params: 30, best_val_loss: 2.1, 'demo-tell-ask-shout-mc.acc': 0.3, best: true });
    expect(sweepColumns(record, rows).map((c) => c.key)).toEqual(['rank', 'targets', 'trainable_params', 'peak_memory_bytes', 'wall_time_s', 'final_train_loss', 'best_val_loss', 'final_val_loss', 'demo-tell-ask-shout-mc.acc', 'demo-tell-ask-shout-mc.acc_norm']);
  });

  it('sorts by any column both ways, unfinished runs last; exports the finished rows as CSV', () => {
    expect(sortRows(rows, { key: 'best_val_loss', dir: 'asc' }).map((r) => r.index)).toEqual([1, 2, 0, 3]);
    expect(sortRows(rows, { key: 'best_val_loss', dir: 'desc' }).map((r) => r.index)).toEqual([0, 2, 1, 3]);
    expect(sortRows(rows, { key: 'rank', dir: 'desc' }).map((r) => r.index)).toEqual([2, 3, 0, 1]);
    expect(sortRows(rows, { key: 'targets', dir: 'asc' }).map((r) => r.index)).toEqual([1, 3, 0, 2]);
    const csv = toCsv(exportRows(rows)).trim().split('\n');
    expect(csv[0]).toBe('run,rank,targets,trainable_params,peak_memory_bytes,wall_time_s,final_train_loss,best_val_loss,final_val_loss,demo-tell-ask-shout-mc.acc,demo-tell-ask-shout-mc.acc_norm,best');
    expect(csv.slice(1)).toEqual([
      '1,4,query+value,10,10000,1.5,2,2.5,2.6,0.1,0.5,false',
      '2,4,query+key+value+projection+mlp,30,30000,1.5,1.8,2.1,2.2,0.3,0.5,true',
      '3,8,query+value,20,20000,1.5,1.9,2.3,2.4,0.2,0.5,false',
    ]);
  });

  it('the chart: a metric against rank, a line per target set; against targets, bars per category', () => {
    const byRank = chartSeries(record, rows, 'rank', 'best_val_loss');
    expect(byRank.numeric).toBe(true);
    expect(byRank.series).toEqual([
      { name: 'LoRA targets query + value', points: [{ x: 4, y: 2.5 }, { x: 8, y: 2.3 }] },
      { name: 'LoRA targets all linear layers', points: [{ x: 4, y: 2.1 }] },
    ]);
    const byTargets = chartSeries(record, rows, 'targets', 'demo-tell-ask-shout-mc.acc');
    expect(byTargets.numeric).toBe(false);
    expect(byTargets.categories).toEqual(['query + value', 'all linear layers']);
    expect(byTargets.series.map((s) => s.name)).toEqual(['Rank 4', 'Rank 8']);
  });

  it('loss figures as the CLI computes them: final train loss is the mean of the last 10 logged losses', () => {
    expect(lossSummary([9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [3, 2, 2.5])).toEqual({ finalTrainLoss: 5.5, bestValLoss: 2, finalValLoss: 2.5 });
    expect(lossSummary([1], [])).toEqual({ finalTrainLoss: 1, bestValLoss: null, finalValLoss: null });
  });
});
