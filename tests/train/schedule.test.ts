import { describe, expect, it } from 'vitest';
import { learningRateAt } from '../../src/train/schedule';
import { parseRunConfig } from '../../src/config/run-config';

const base = { learningRate: 1e-3, warmupSteps: 0, minLrRatio: 0 };

describe('learning-rate schedules (transformers semantics)', () => {
  it('constant stays at the peak', () => {
    for (const s of [0, 5, 99]) expect(learningRateAt({ ...base, schedule: 'constant' }, s, 100)).toBe(1e-3);
  });

  it('cosine falls from the peak to the minimum over a half cycle', () => {
    const c = { ...base, schedule: 'cosine' as const, minLrRatio: 0.1 };
    expect(learningRateAt(c, 0, 100)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(c, 50, 100)).toBeCloseTo(1e-4 + 0.9e-3 * 0.5, 12);
    expect(learningRateAt(c, 100, 100)).toBeCloseTo(1e-4, 12);
  });

  it('warmup-cosine rises linearly from 0, then follows the cosine', () => {
    const c = { ...base, schedule: 'warmup-cosine' as const, warmupSteps: 10 };
    expect(learningRateAt(c, 0, 110)).toBe(0);
    expect(learningRateAt(c, 5, 110)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(c, 10, 110)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(c, 60, 110)).toBeCloseTo(5e-4, 12);
  });

  it('linear warms up then decays to 0 at the last step', () => {
    const c = { ...base, schedule: 'linear' as const, warmupSteps: 4 };
    expect(learningRateAt(c, 2, 24)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(c, 14, 24)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(c, 24, 24)).toBe(0);
  });
});

describe('run config', () => {
  it('fills defaults', () => {
    const c = parseRunConfig({});
    expect(c.rank).toBe(8);
    expect(c.alpha).toBe(16);
    expect(c.targets).toEqual(['query', 'value']);
  });

  it('names the field of a cross-field error', () => {
    expect(() => parseRunConfig({ doubleQuant: true, basePrecision: 'f16' })).toThrow(/doubleQuant: double quantization applies to NF4/);
    expect(() => parseRunConfig({ rank: 0 })).toThrow(/rank:/);
    expect(() => parseRunConfig({ targets: ['attention'] })).toThrow(/targets/);
  });
});
