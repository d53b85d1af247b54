// Expanding grid.json into runs: which fields are axes, tied alpha, lists, errors; the CSV.
// (src/train/sweep/: shared by the CLI's sweep and the studio's Sweep tab.)
import { describe, expect, it } from 'vitest';
import { expandSweep } from '../../src/train/sweep/grid';
import { markBest, toCsv } from '../../src/train/sweep/results';

const QV = ['query', 'value'];
const ALL = ['query', 'key', 'value', 'projection', 'mlp'];

describe('expandSweep', () => {
  it('array-valued fields whose elements are values of the field are the axes; the first varies slowest', () => {
    const runs = expandSweep({ rank: [4, 8], targets: [QV, ALL], maxSteps: 20 });
    expect(runs.map((r) => [r.config.rank, r.config.targets])).toEqual([[4, QV], [4, ALL], [8, QV], [8, ALL]]);
    expect(runs.every((r) => r.config.maxSteps === 20)).toBe(true);
    expect(runs[1].varying).toEqual({ rank: 4, targets: ALL });
    expect(runs.map((r) => r.name)).toEqual(['1_rank-4_targets-query+value', '2_rank-4_targets-query+key+value+projection+mlp', '3_rank-8_targets-query+value', '4_rank-8_targets-query+key+value+projection+mlp']);
  });

  it('a list of targets is one value, not an axis', () => {
    const runs = expandSweep({ targets: QV, rank: [2, 4] });
    expect(runs).toHaveLength(2);
    expect(runs[0].config.targets).toEqual(QV);
    expect(Object.keys(runs[0].varying)).toEqual(['rank']);
  });

  it('"alpha": "2x" ties alpha to each run\'s rank, also as an axis value', () => {
    expect(expandSweep({ rank: [4, 16], alpha: '2x' }).map((r) => r.config.alpha)).toEqual([8, 32]);
    const mixed = expandSweep({ rank: 8, alpha: ['2x', 8] });
    expect(mixed.map((r) => r.config.alpha)).toEqual([16, 8]);
    expect(mixed[0].varying).toEqual({ alpha: '2x' });
  });

  it('{"runs": [...]} lists runs; shared fields apply to all; the varying fields are those that differ', () => {
    const runs = expandSweep({ maxSteps: 5, runs: [{ rank: 4, optimizer: 'sgd' }, { rank: 4, optimizer: 'adamw', learningRate: 1e-3 }] });
    expect(runs.map((r) => r.config)).toEqual([{ maxSteps: 5, rank: 4, optimizer: 'sgd' }, { maxSteps: 5, rank: 4, optimizer: 'adamw', learningRate: 1e-3 }]);
    expect(runs[0].varying).toEqual({ optimizer: 'sgd', learningRate: undefined });
  });

  it('names unknown fields, bad axes and invalid runs', () => {
    expect(() => expandSweep({ rnak: [4, 8] })).toThrow(/"rnak" is not a run config field/);
    expect(() => expandSweep({ rank: [] })).toThrow(/"rank": \[\] is neither a valid value nor a non-empty list/);
    expect(() => expandSweep({ rank: [4, 'x'] })).toThrow(/"rank"/);
    expect(() => expandSweep({ maxSteps: [1, 10], warmupSteps: 5 })).toThrow(/sweep run 1 .*warmupSteps/);
    expect(() => expandSweep({ runs: [] })).toThrow(/"runs" must be a non-empty array/);
    expect(() => expandSweep([1])).toThrow(/must be a JSON object/);
  });
});

describe('results', () => {
  it('CSV joins lists with + and quotes commas; the best row has the lowest best_val_loss', () => {
    const rows: Record<string, unknown>[] = [
      { run: 'a', targets: QV, best_val_loss: 2, final_train_loss: 1 },
      { run: 'b,c', targets: ALL, best_val_loss: 1.5, final_train_loss: 3 },
    ];
    markBest(rows);
    expect(rows.map((r) => r.best)).toEqual([false, true]);
    expect(toCsv(rows)).toBe('run,targets,best_val_loss,final_train_loss,best\na,query+value,2,1,false\n"b,c",query+key+value+projection+mlp,1.5,3,true\n');
  });
});
