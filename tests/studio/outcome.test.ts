/** The words and figures the dashboard and Runs show at a run's end: outcome, rates, smoothing, the demo's files. */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { outcomeOf, outcomeText } from '../../src/ui/features/dashboard/outcome';
import { rate } from '../../src/ui/components/format';
import { meanOfLast, smoothedLast } from '../../src/ui/charts/smoothing';
import { DEMO_MODEL_FILES } from '../../src/worker/demo';
import { inStudioWords } from '../../src/worker/dataset';
import type { StepPoint } from '../../src/worker/api';

const point = (step: number, loss: number, evalLoss?: number): StepPoint => ({
  step, epoch: 0, loss, lr: 1e-3, gradNorm: 1, clipCoef: 1, tokensPerSecond: 100, elapsedMs: step, memory: {} as never, memoryTotal: 0, memoryPeak: 0,
  ...(evalLoss !== undefined ? { evalLoss } : {}),
});

describe('the outcome of a run, in words', () => {
  it('validation loss from the base model to the best, with its step and the change', () => {
    const pts = [point(1, 6, undefined), point(10, 5, 5.5), point(20, 4, 4.2), point(30, 4.1, 4.4)];
    const o = outcomeOf(pts, 6);
    expect(o.best).toEqual({ loss: 4.2, step: 20 });
    expect(outcomeText(o)).toBe('validation loss 6.000 → 4.200 (best, after step 20): 30% lower than the base model');
  });

  it('near 100% it keeps a decimal: the demo\'s 3.471 -> 0.007 is 99.8% lower, not 100%', () => {
    const o = outcomeOf([point(1, 3.4, undefined), point(100, 0.01, 0.007)], 3.471);
    expect(outcomeText(o)).toMatch(/: 99\.8% lower than the base model$/);
  });

  it('without validation: the training loss at the start and the end, and why there is no validation loss', () => {
    const pts = Array.from({ length: 30 }, (_, i) => point(i + 1, i < 10 ? 5 : i >= 20 ? 3 : 4));
    expect(outcomeText(outcomeOf(pts, null))).toMatch(/^training loss 5\.000 → 3\.000 \(means of the first and last 10 steps\); no validation loss/);
  });
});

describe('figures', () => {
  it('rates keep two significant digits when small: a slow run shows 0.05, not 0', () => {
    expect(rate(0.0512)).toBe('0.051');
    expect(rate(0.05)).toBe('0.05');
    expect(rate(3.456)).toBe('3.5');
    expect(rate(12.34)).toBe('12.3');
    expect(rate(370.4)).toBe('370');
    expect(rate(12345)).toBe('12.3k');
    expect(rate(0)).toBe('0');
    expect(rate(undefined)).toBe('–');
  });

  it('smoothed throughput does not swing with one step; the mean of the last 10 losses', () => {
    const swinging = Array.from({ length: 40 }, (_, i) => (i % 2 ? 13 : 180));
    const s = smoothedLast(swinging)!;
    expect(s).toBeGreaterThan(80);
    expect(s).toBeLessThan(110);
    expect(smoothedLast([undefined, undefined])).toBeUndefined();
    expect(meanOfLast([9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toBe(5.5);
    expect(meanOfLast([NaN, 2, 4])).toBe(3);
  });
});

describe('the demo and the dataset messages', () => {
  it('the demo loader knows every model file of public/demo (and asks for nothing else)', () => {
    const onDisk = readdirSync('public/demo').filter((f) => f.endsWith('.json') || f.endsWith('.safetensors'));
    const modelFiles = onDisk.filter((f) => f !== 'pretraining.json' && !f.startsWith('dataset'));
    expect([...DEMO_MODEL_FILES].sort()).toEqual(modelFiles.sort());
  });

  it('dataset messages name the Column mapping box, not a command-line flag', () => {
    expect(inStudioWords('say which hold the prompt and the answer, e.g. --columns instruction=q,output=a (fields: x)'))
      .toBe('say which hold the prompt and the answer, e.g. instruction=q, output=a in the Column mapping box (fields: x)');
  });
});
