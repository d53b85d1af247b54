import { describe, expect, it } from 'vitest';
import { downsample, downsampleColumns, lttbIndices, strideWithPeak } from '../../src/ui/charts/downsample';
import { ema, etaMs } from '../../src/ui/charts/smoothing';

describe('LTTB downsampling', () => {
  it('keeps the first and last points, at most `threshold` points, in order', () => {
    const xs = Float64Array.from({ length: 1000 }, (_, i) => i);
    const ys = Float64Array.from(xs, (x) => Math.sin(x / 30));
    const idx = lttbIndices(xs, ys, 100);
    expect(idx).toHaveLength(100);
    expect(idx[0]).toBe(0);
    expect(idx[99]).toBe(999);
    for (let i = 1; i < idx.length; i++) expect(idx[i]).toBeGreaterThan(idx[i - 1]);
  });

  it('keeps a single spike that uniform striding would drop', () => {
    const n = 10_000;
    const data = Array.from({ length: n }, (_, i) => ({ step: i + 1, loss: 2 - i / n }));
    data[4321].loss = 50; // one divergent step
    const drawn = downsample(data, (d) => d.step, (d) => d.loss, 500);
    expect(drawn.length).toBeLessThanOrEqual(500);
    expect(drawn.some((d) => d.loss === 50)).toBe(true);
  });

  it('draws 10,000 points as 500 in a few milliseconds', () => {
    const data = Array.from({ length: 10_000 }, (_, i) => ({ step: i + 1, loss: Math.exp(-i / 3000) + 0.1 * Math.sin(i) }));
    const t0 = performance.now();
    for (let k = 0; k < 10; k++) downsample(data, (d) => d.step, (d) => d.loss, 500);
    const per = (performance.now() - t0) / 10;
    expect(per).toBeLessThan(20);
  });

  it('drops rows whose value is missing (validation loss on some steps only)', () => {
    const data = [{ s: 1, v: undefined }, { s: 2, v: 3 }, { s: 3, v: NaN }, { s: 4, v: 1 }];
    expect(downsample(data, (d) => d.s, (d) => d.v, 500).map((d) => d.s)).toEqual([2, 4]);
  });

  it('stride sampling keeps the peak row', () => {
    const data = Array.from({ length: 5000 }, (_, i) => ({ i, total: i === 3333 ? 99 : 1 }));
    const out = strideWithPeak(data, (d) => d.total, 100);
    expect(out.length).toBeLessThanOrEqual(101);
    expect(out.some((d) => d.total === 99)).toBe(true);
    expect(out[out.length - 1].i).toBe(4999);
  });
});

describe('smoothing and ETA', () => {
  it('the debiased EMA starts at the first value and 0 is the raw curve', () => {
    const v = [4, 2, 2, 2];
    expect([...ema(v, 0)]).toEqual(v);
    const s = ema(v, 0.9);
    expect(s[0]).toBeCloseTo(4, 10);
    expect(s[1]).toBeCloseTo((0.9 * 0.1 * 4 + 0.1 * 2) / (1 - 0.81), 10);
    expect(s[3]).toBeLessThan(s[0]);
  });

  it('skips non-finite values without poisoning the rest', () => {
    const s = ema([1, NaN, 1], 0.5);
    expect(Number.isNaN(s[1])).toBe(true);
    expect(s[2]).toBeCloseTo(1, 10);
  });

  it('ETA from the pace so far', () => {
    expect(etaMs(10, 100, 5000)).toBe(45_000);
    expect(etaMs(0, 100, 0)).toBeNull();
    expect(etaMs(100, 100, 1)).toBe(0);
  });
});

describe('column downsampling (the dashboard path)', () => {
  it('matches the row version and skips steps without a value', () => {
    const n = 5000;
    const xs = Float64Array.from({ length: n }, (_, i) => i + 1);
    const ys = Float64Array.from(xs, (x) => (x % 250 === 0 ? Math.log(x) : NaN));
    const out = downsampleColumns(xs, ys, 300);
    expect(out.map((p) => p.x)).toEqual(Array.from({ length: 20 }, (_, i) => 250 * (i + 1)));
    const dense = Float64Array.from(xs, (x) => Math.sin(x / 50));
    const rows = Array.from(xs, (x, i) => ({ x, y: dense[i] }));
    expect(downsampleColumns(xs, dense, 300)).toEqual(downsample(rows, (r) => r.x, (r) => r.y, 300));
  });
});
